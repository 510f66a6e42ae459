package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// countingDB counts the DynamoDB calls the fan-in makes and the item writes they carry.
type countingDB struct {
	DynamoDBAPI
	calls, writes, conflicts atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoDBAPI.GetItem(ctx, in, o...)
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	c.writes.Add(int64(len(in.TransactItems)))
	out, err := c.DynamoDBAPI.TransactWriteItems(ctx, in, o...)
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && conflicted(canceled.CancellationReasons) {
		c.conflicts.Add(1)
	}
	return out, err
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.calls.Add(1)
	return c.DynamoDBAPI.Query(ctx, in, o...)
}

// BenchmarkFanIn measures the fan-in path on DynamoDB Local: n subtasks recorded by 5 concurrent
// workers (the template's MaximumConcurrency), each result and its decrement in one transaction,
// then the sink's paginated read and final write. It reports the wall time per item and the
// DynamoDB calls and item writes per item (a transaction of two writes counts as two).
func BenchmarkFanIn(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			base := newDynamoStore(b)
			db := &countingDB{DynamoDBAPI: base.DB}
			s := base
			s.DB = db
			sink := &fakeSink{}
			log, _ := newLog()
			j := Joiner{Results: s, Sink: sink, Now: time.Now, Log: log}
			a := Aggregator{Results: s, Now: time.Now, Log: log}
			b.ResetTimer()
			var elapsed time.Duration
			for round := range b.N {
				b.StopTimer()
				id := fmt.Sprintf("%032x", round+1)
				mustCreate(b, base, runningBatch(id, n))
				db.calls.Store(0)
				db.writes.Store(0)
				db.conflicts.Store(0)
				b.StartTimer()
				start := time.Now()
				work := make(chan int)
				var wg sync.WaitGroup
				for range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range work {
							if err := j.Join(context.Background(), id, done(fmt.Sprintf("item-%05d", i))); err != nil {
								b.Error(err)
							}
						}
					}()
				}
				for i := range n {
					work <- i
				}
				close(work)
				wg.Wait()
				if err := a.Aggregate(context.Background(), id); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
			}
			if sink.count() != b.N {
				b.Fatalf("sink triggered %d times for %d batches", sink.count(), b.N)
			}
			b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N*n), "µs/item")
			b.ReportMetric(float64(db.calls.Load())/float64(n), "calls/item")
			b.ReportMetric(float64(db.writes.Load())/float64(n), "writes/item")
			b.ReportMetric(float64(db.conflicts.Load())/float64(n), "conflicts/item")
		})
	}
}

// BenchmarkCounter compares every worker decrementing the one counter item (the batch record) with
// the sharded alternative (the counter split over 10 items, one picked at random per decrement),
// with 16 concurrent writers, both as plain UpdateItem ADD and inside a two-item transaction as the
// fan-in does. DynamoDB Local has no partitions and no throttling, so it cannot show the ~1,000
// WCU/s per-partition-key ceiling, and it runs transactions on one item one after another instead
// of cancelling them (conflicts/op stays 0; see handlers.BenchmarkWorkerOnAWSConflicts for
// DynamoDB's rule); what it does show is the cost of that serialisation, which sharding removes.
func BenchmarkCounter(b *testing.B) {
	for _, tc := range []struct {
		name     string
		shards   int
		transact bool
	}{
		{"update/hot-key", 1, false},
		{"update/sharded-10", 10, false},
		{"transact/hot-key", 1, true},
		{"transact/sharded-10", 10, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := newDynamoStore(b)
			var conflicts, puts atomic.Int64
			b.SetParallelism(8) // 16 writers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					shard := fmt.Sprintf("counter#%d", rand.IntN(tc.shards))
					update := &types.Update{
						TableName:                 aws.String(s.Table),
						Key:                       map[string]types.AttributeValue{"batchId": str(batchID), "sk": str(shard)},
						UpdateExpression:          aws.String("ADD remaining :minus"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)},
					}
					if !tc.transact {
						_, err := s.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
							TableName: update.TableName, Key: update.Key, UpdateExpression: update.UpdateExpression,
							ExpressionAttributeValues: update.ExpressionAttributeValues,
						})
						if err != nil {
							b.Error(err)
						}
						continue
					}
					put := &types.Put{TableName: aws.String(s.Table), Item: map[string]types.AttributeValue{
						"batchId": str(batchID), "sk": str(fmt.Sprintf("task#%d", puts.Add(1))),
					}}
					for {
						_, err := s.DB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
							TransactItems: []types.TransactWriteItem{{Put: put}, {Update: update}},
						})
						var canceled *types.TransactionCanceledException
						if errors.As(err, &canceled) && conflicted(canceled.CancellationReasons) {
							conflicts.Add(1)
							continue
						}
						if err != nil {
							b.Error(err)
						}
						break
					}
				}
			})
			b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
		})
	}
}
