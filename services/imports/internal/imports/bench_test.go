package imports_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore/dynamostoretest"
	"github.com/go-serverless/reference/services/imports/internal/imports/s3objects"
	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
)

// The benchmarks compare one uninterrupted loop over a file with the same file imported by a
// chain of invocations, to measure what recursion and checkpoints cost: each link claims the
// import, reads its checkpoint back and opens a new Range GET. Both read the file from versitygw
// (real HTTP Range GETs) and report the GETs made and the bytes they asked for, as a multiple of
// the file: a link that asks for more than it reads makes versitygw read and send the rest, to be
// thrown away at the hand-over. The store keeps the checkpoint rules of dynamostore.Store but only
// counts orders: DynamoDB Local writes about 2,000 items/s on two cores, so 1,000,000 lines would take
// minutes per run and measure DynamoDB Local, not the chain. BenchmarkChainOnDynamoDBLocal
// measures the real store on a smaller file.
//
// They read through the S3 adapter, package s3objects, and BenchmarkChainOnDynamoDBLocal writes
// through the DynamoDB adapter, package dynamostore; both import package imports, so the
// benchmarks are in package imports_test, with the test helpers export_test.go lends them.

const benchLines = 1_000_000

// countingStore is memStore without the orders: it counts them.
type countingStore struct {
	imports.Store
	mu      sync.Mutex
	written int64
}

func (c *countingStore) WriteOrders(_ context.Context, orders []imports.Order) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written += int64(len(orders))
	return nil
}

// countingObjects counts the Range GETs made and the bytes they asked for.
type countingObjects struct {
	imports.Objects
	mu          sync.Mutex
	gets, asked int64
}

func (c *countingObjects) Open(ctx context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error) {
	c.mu.Lock()
	c.gets++
	c.asked += length
	c.mu.Unlock()
	return c.Objects.Open(ctx, bucket, key, etag, offset, length)
}

// benchFile uploads a CSV file of n orders to versitygw once per benchmark.
func benchFile(b *testing.B, n int) (imports.Objects, imports.Object) {
	b.Helper()
	client, bucket := s3test.Start(b)
	var sb strings.Builder
	sb.Grow(n * 32)
	sb.WriteString("id,customer,amount,currency\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&sb, "o-%d,Zoë %d,%d,EUR\n", i, i%977, i%100000+1)
	}
	body := sb.String()
	key := "imports/bench/orders.csv"
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		b.Fatal(err)
	}
	objects := s3objects.Objects{S3: client, Calls: budget.Calls{Timeout: imports.CallTimeout}}
	obj, err := objects.Head(context.Background(), bucket, key)
	if err != nil {
		b.Fatal(err)
	}
	return objects, obj
}

// runChain imports obj with links of at most maxLines lines each (0: one uninterrupted
// invocation) and returns how many invocations it took.
func runChain(b *testing.B, store imports.Store, objects imports.Objects, obj imports.Object, maxLines int64) int {
	var queue []imports.Link
	next := continuerFunc(func(_ context.Context, l imports.Link) error { queue = append(queue, l); return nil })
	p := imports.Processor{
		Store: store, Objects: objects, Next: next,
		Budget: budget.Budget{Margin: time.Second}, BatchLines: 100, MaxLines: maxLines, MaxDepth: 10_000,
		Now: time.Now, Log: slog.New(slog.DiscardHandler),
	}
	imp, _, err := imports.Starter{Store: store, Next: next, Retention: time.Hour, Now: time.Now}.Start(context.Background(), "bench", obj)
	if err != nil {
		b.Fatal(err)
	}
	runs := 0
	for len(queue) > 0 {
		link := queue[0]
		queue = queue[1:]
		runs++
		if err := p.Process(context.Background(), link); err != nil {
			b.Fatal(err)
		}
	}
	got, _ := store.Get(context.Background(), imp.ID)
	if got.Status != imports.StatusSucceeded || got.Accepted != benchLines-1 {
		b.Fatalf("import = %s with %d accepted; want SUCCEEDED", got.Status, got.Accepted)
	}
	return runs
}

type continuerFunc func(context.Context, imports.Link) error

func (f continuerFunc) Continue(ctx context.Context, l imports.Link) error { return f(ctx, l) }

func BenchmarkImport1MLines(b *testing.B) {
	objects, obj := benchFile(b, benchLines)
	for _, bc := range []struct {
		name     string
		maxLines int64
	}{
		{"uninterrupted", 0},
		{"chain-of-10", benchLines / 10},
		{"chain-of-100", benchLines / 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var runs int
			counted := &countingObjects{Objects: objects}
			for b.Loop() {
				store := &countingStore{Store: imports.NewMemStore()}
				runs = runChain(b, store, counted, obj, bc.maxLines)
				if store.written != benchLines-1 {
					b.Fatalf("%d orders written; want %d", store.written, benchLines-1)
				}
			}
			b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(runs), "invocations")
			b.ReportMetric(float64(counted.gets)/float64(b.N), "GETs")
			b.ReportMetric(float64(counted.asked)/float64(b.N)/float64(obj.Size), "files-asked")
		})
	}
}

// BenchmarkChainOverhead imports the 1,000,000-line file as one uninterrupted run and as a chain
// of links, in turn, alternating which goes first, and reports the median over the pairs of the
// chain's time over the uninterrupted run's. On a shared machine whose load drifts by more than
// the overhead measured, pairs run side by side say more than sub-benchmarks run minutes apart.
// Each iteration runs chainPairs pairs, so that make bench's one-second benchtime (one or two
// iterations) still takes the median of several: with one pair the ratio moved by ±3%, the size of
// the overhead it measures.
//
//	go test -run '^$' -bench ChainOverhead -benchtime 20x ./internal/imports/
//
// chainPairs is how many pairs one iteration of BenchmarkChainOverhead runs.
const chainPairs = 5

func BenchmarkChainOverhead(b *testing.B) {
	objects, obj := benchFile(b, benchLines)
	timed := func(maxLines int64) time.Duration {
		started := time.Now()
		runChain(b, &countingStore{Store: imports.NewMemStore()}, objects, obj, maxLines)
		return time.Since(started)
	}
	for _, links := range []int64{10, 100} {
		b.Run(fmt.Sprintf("links=%d", links), func(b *testing.B) {
			var ratios []float64
			for b.Loop() {
				for range chainPairs {
					var alone, chained time.Duration
					if len(ratios)%2 == 0 {
						alone, chained = timed(0), timed(benchLines/links)
					} else {
						chained, alone = timed(benchLines/links), timed(0)
					}
					ratios = append(ratios, chained.Seconds()/alone.Seconds())
				}
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "chain/uninterrupted")
		})
	}
}

func BenchmarkChainOnDynamoDBLocal(b *testing.B) {
	const lines = 20_000
	objects, obj := benchFile(b, lines)
	store := dynamostoretest.New(b)
	for _, bc := range []struct {
		name     string
		maxLines int64
	}{
		{"uninterrupted", 0},
		{"chain-of-10", lines / 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var runs int
			for b.Loop() {
				// A new version of the object each time is a new import; same bytes, new ETag.
				runs = runChainDynamo(b, store, objects, obj, bc.maxLines)
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(runs), "invocations")
		})
	}
}

// runChainDynamo imports obj under a fresh import id (the ETag alone names a version, so the key
// gets a unique suffix in the id only) on the DynamoDB store.
func runChainDynamo(b *testing.B, store dynamostore.Store, objects imports.Objects, obj imports.Object, maxLines int64) int {
	var queue []imports.Link
	next := continuerFunc(func(_ context.Context, l imports.Link) error { queue = append(queue, l); return nil })
	p := imports.Processor{
		Store: store, Objects: objects, Next: next,
		Budget: budget.Budget{Margin: time.Second}, BatchLines: 100, MaxLines: maxLines, MaxDepth: 10_000,
		Now: time.Now, Log: slog.New(slog.DiscardHandler),
	}
	now := time.Now()
	imp := imports.Import{ID: fmt.Sprintf("bench-%d", now.UnixNano()), Owner: "bench", Bucket: obj.Bucket, Key: obj.Key, ETag: obj.ETag, Size: obj.Size,
		Format: imports.FormatCSV, Status: imports.StatusRunning, CreatedAt: now, UpdatedAt: now}
	if err := store.Create(context.Background(), imp); err != nil {
		b.Fatal(err)
	}
	queue = append(queue, imports.Link{ImportID: imp.ID})
	runs := 0
	for len(queue) > 0 {
		link := queue[0]
		queue = queue[1:]
		runs++
		if err := p.Process(context.Background(), link); err != nil {
			b.Fatal(err)
		}
	}
	if got, _ := store.Get(context.Background(), imp.ID); got.Status != imports.StatusSucceeded {
		b.Fatalf("import = %s; want SUCCEEDED", got.Status)
	}
	return runs
}
