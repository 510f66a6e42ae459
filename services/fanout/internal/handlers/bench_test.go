package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/dynamotest"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// DynamoDB Local, started on first use, is shared by the package's benchmarks.
func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// newFanoutTable makes a table shaped like FanoutTable in template.yaml, on DynamoDB Local.
func newFanoutTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	db := dynamotest.Start(tb)
	return db, dynamotest.CreateTable(tb, db, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("batchId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("batchId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
}

// eventSource does what Lambda's SQS event source mapping does for ProcessSubtaskFunction, minus
// the waiting: it hands the queue's messages out in events of up to batchSize, to maxConcurrency
// execution environments, one invocation at a time each, with the function's Timeout, and puts
// back on the queue (at once: no visibility timeout here) every message an invocation reports
// failed.
type eventSource struct {
	batchSize, maxConcurrency int
	timeout                   time.Duration

	mu          sync.Mutex
	queue       []events.SQSMessage
	outstanding int   // messages not yet deleted
	handedBack  int64 // messages reported failed and received again
}

// drain invokes the handlers, one per execution environment (as each runs its main once), until
// every message has been deleted.
func (s *eventSource) drain(newHandler func() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) error {
	var wg sync.WaitGroup
	errs := make(chan error, s.maxConcurrency)
	for range s.maxConcurrency {
		handle := newHandler()
		wg.Go(func() {
			for {
				event, ok := s.receive()
				if !ok {
					return
				}
				if len(event.Records) == 0 {
					time.Sleep(time.Millisecond) // the rest are in other invocations, and may come back
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
				resp, err := handle(ctx, event)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				s.settle(event, resp)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// receive takes the next event off the queue; false when every message has been deleted.
func (s *eventSource) receive() (events.SQSEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outstanding == 0 {
		return events.SQSEvent{}, false
	}
	n := min(s.batchSize, len(s.queue))
	event := events.SQSEvent{Records: s.queue[:n:n]}
	s.queue = s.queue[n:]
	return event, true
}

// settle deletes the messages that succeeded and puts the failed ones back.
func (s *eventSource) settle(event events.SQSEvent, resp events.SQSEventResponse) {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, msg := range event.Records {
		if failed[msg.MessageId] {
			s.queue = append(s.queue, msg)
			s.handedBack++
			continue
		}
		s.outstanding--
	}
}

// countingSink counts the batches sent to the sink.
type countingSink struct{ sent atomic.Int64 }

func (c *countingSink) Send(context.Context, string) error {
	c.sent.Add(1)
	return nil
}

// workerSetup is how ProcessSubtaskFunction runs a batch's records.
type workerSetup struct {
	// concurrency is handlers.Process.Concurrency.
	concurrency int
	// grouped gives the worker a Recording: an invocation's results recorded together. Without
	// one, each result is recorded on its own as soon as its work is done.
	grouped bool
	// patience is the store's ConflictPatience; zero means DefaultConflictPatience.
	patience time.Duration
}

var (
	// production is how cmd/process-subtask wires the worker.
	production = workerSetup{concurrency: fanout.WorkerConcurrency, grouped: true}
	// oneAfterAnother is how the worker ran before: one record after another.
	oneAfterAnother = workerSetup{concurrency: 1}
	// ungrouped works the records side by side and records each result as soon as it is ready:
	// up to twenty transactions in flight per invocation.
	ungrouped = workerSetup{concurrency: fanout.WorkerConcurrency}
)

// batchRun is what one batch through the worker took.
type batchRun struct {
	elapsed    time.Duration
	handedBack int64 // deliveries reported failed and received again
}

// runBatch submits a batch of n items of durationMS each to the table (as SubmitBatchFunction
// records it), puts its subtasks on a queue, and runs ProcessSubtaskFunction's handler, with the
// production BatchSize, MaximumConcurrency and Timeout, until every subtask is recorded. It fails
// the benchmark unless the batch ends counted exactly once, AGGREGATING, with one sink message.
func runBatch(b *testing.B, db fanout.DynamoDBAPI, table, batchID string, n, durationMS int, setup workerSetup) batchRun {
	b.Helper()
	store := fanout.DynamoStore{DB: db, Table: table}
	now := time.Now()
	if err := store.Create(context.Background(), fanout.Batch{
		ID: batchID, Owner: "alice", Status: fanout.StatusRunning, Total: n, Remaining: n, Published: n,
		PublishBy: now.Add(time.Minute), Deadline: now.Add(time.Hour), Fingerprint: "f",
		StartedAt: now, ExpiresAt: now.Add(time.Hour).Unix(),
	}); err != nil {
		b.Fatal(err)
	}
	source := &eventSource{batchSize: fanout.WorkerBatchSize, maxConcurrency: fanout.WorkerMaxConcurrency, timeout: fanout.WorkerTimeout, outstanding: n}
	for i := range n {
		body, err := json.Marshal(fanout.Subtask{BatchID: batchID, Item: fanout.Item{ID: fmt.Sprintf("item-%05d", i), DurationMS: durationMS}})
		if err != nil {
			b.Fatal(err)
		}
		source.queue = append(source.queue, events.SQSMessage{MessageId: fmt.Sprintf("m-%05d", i), Body: string(body)})
	}
	sink := &countingSink{}
	// What cmd/process-subtask's main wires, once per execution environment.
	newHandler := func() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		margin := budget.Budget{Margin: fanout.WorkerMargin}
		var recording *fanout.Recording
		if setup.grouped {
			recording = fanout.NewRecording()
		}
		return Process{
			Subtasks: fanout.Worker{
				Joiner: fanout.Joiner{
					Results: fanout.DynamoStore{DB: db, Table: table, Calls: budget.Calls{Budget: margin}, ConflictPatience: setup.patience},
					Sink:    sink, Now: time.Now, Log: lambdatest.QuietLogger(),
				},
				Work: fanout.Simulate, Budget: margin, Now: time.Now, Recording: recording,
			},
			Budget: margin, Concurrency: setup.concurrency, Log: lambdatest.QuietLogger(),
		}.Handle
	}

	start := time.Now()
	if err := source.drain(newHandler); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)

	got, err := store.Get(context.Background(), batchID)
	if err != nil {
		b.Fatal(err)
	}
	if got.Completed != n || got.Remaining != 0 || got.Status != fanout.StatusAggregating || sink.sent.Load() != 1 {
		b.Fatalf("batch of %d: completed %d, remaining %d, %s, %d sink messages; want %d, 0, AGGREGATING, 1",
			n, got.Completed, got.Remaining, got.Status, sink.sent.Load(), n)
	}
	return batchRun{elapsed: elapsed, handedBack: source.handedBack}
}

// BenchmarkWorker runs a batch of 1,000 items through ProcessSubtaskFunction's handler and the
// real worker, on DynamoDB Local, with the production BatchSize (20), MaximumConcurrency (5) and
// Timeout: once with items of 0 ms, once with items of 50 ms, as a pair (each pair in the other
// order from the last), and reports the pair whose ratio is the median: each batch's wall time,
// their ratio, and the 50 ms batch against its ideal: the work alone, 1,000 × 50 ms over the 100
// items in flight, 0.5 s. The 0 ms batch is the floor, the rate at which the batch record takes
// the results. The production worker runs workerPairs pairs an iteration (the upper middle pair
// when the count is even): one pair's ratio moved from 0.95 to 1.30 across runs on the shared
// machine.
//
// It runs the production worker (records side by side, each invocation's results recorded in one
// transaction), the worker as it was (one record after another: 10.0 s of work alone at 50 ms), and
// records side by side with each result recorded on its own as soon as it is ready (twenty
// transactions in flight per invocation; see BenchmarkWorkerOnAWSConflicts for what that does on
// AWS); those two, for comparison only, one pair an iteration.
func BenchmarkWorker(b *testing.B) {
	const items = 1000
	ideal := time.Duration(items) * 50 * time.Millisecond / (fanout.WorkerBatchSize * fanout.WorkerMaxConcurrency)
	for _, tc := range []struct {
		name  string
		setup workerSetup
		pairs int
	}{
		{"records=side-by-side", production, workerPairs},
		{"records=one-after-another", oneAfterAnother, 1},
		{"records=side-by-side-ungrouped", ungrouped, 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			db, table := newFanoutTable(b)
			// DynamoDB Local's JVM compiles its hot paths during the first few thousand calls.
			runBatch(b, db, table, fmt.Sprintf("%032x", 0), items, 0, tc.setup)
			type pair struct{ zero, fifty batchRun }
			var pairs []pair
			var handedBack int64
			for b.Loop() {
				for range tc.pairs {
					var p pair
					runs := []struct {
						run        *batchRun
						durationMS int
					}{{&p.zero, 0}, {&p.fifty, 50}}
					if len(pairs)%2 == 1 {
						runs[0], runs[1] = runs[1], runs[0]
					}
					for j, r := range runs {
						*r.run = runBatch(b, db, table, fmt.Sprintf("%032x", 2*len(pairs)+j+1), items, r.durationMS, tc.setup)
						handedBack += r.run.handedBack
					}
					pairs = append(pairs, p)
				}
			}
			ratio := func(p pair) float64 { return p.fifty.elapsed.Seconds() / p.zero.elapsed.Seconds() }
			slices.SortFunc(pairs, func(x, y pair) int { return cmp.Compare(ratio(x), ratio(y)) })
			median := pairs[len(pairs)/2]
			b.ReportMetric(0, "ns/op") // two batches a pair: the figures below say which is which
			b.ReportMetric(median.zero.elapsed.Seconds(), "s/batch(0ms)")
			b.ReportMetric(median.fifty.elapsed.Seconds(), "s/batch(50ms)")
			b.ReportMetric(ratio(median), "ratio(50ms/0ms)")
			b.ReportMetric(median.fifty.elapsed.Seconds()/ideal.Seconds(), "ratio(50ms/ideal)")
			b.ReportMetric(float64(handedBack)/float64(2*len(pairs)*items), "handed-back/item")
			b.ReportMetric(float64(len(pairs)), "pairs")
			reportLoad(b)
		})
	}
}

// workerPairs is how many pairs of batches BenchmarkWorker runs of the production worker per
// iteration; it reports the median.
const workerPairs = 5

// reportLoad reports the machine's load average over the last minute, where the system says it
// (/proc/loadavg): the benchmarks share their cores with DynamoDB Local's JVM, and often with other
// work, and their times mean little without it.
func reportLoad(b *testing.B) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	var load float64
	if _, err := fmt.Sscan(string(raw), &load); err == nil {
		b.ReportMetric(load, "load-1m")
	}
}

// awsConflicts gives DynamoDB Local DynamoDB's rule for transactions that meet on an item. DynamoDB
// Local runs them one after another; DynamoDB cancels a transaction that touches an item another
// transaction holds (TransactionConflict) and refuses a plain write to such an item
// (TransactionConflictException). Here a transaction holds its items from the moment it is sent
// until DynamoDB Local has answered it and hold has passed: DynamoDB Local answers in a few
// milliseconds, DynamoDB in 10–20, and how long DynamoDB holds an item within that is not published.
type awsConflicts struct {
	fanout.DynamoDBAPI
	hold time.Duration

	mu                      sync.Mutex
	held                    map[string]bool
	transactions, conflicts atomic.Int64 // attempts, and those cancelled for a conflict
}

func itemKey(key map[string]types.AttributeValue) string {
	var id, sk string
	if v, ok := key["batchId"].(*types.AttributeValueMemberS); ok {
		id = v.Value
	}
	if v, ok := key["sk"].(*types.AttributeValueMemberS); ok {
		sk = v.Value
	}
	return id + "/" + sk
}

func (a *awsConflicts) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	var keys []string
	for _, item := range in.TransactItems {
		switch {
		case item.Put != nil:
			keys = append(keys, itemKey(item.Put.Item))
		case item.Update != nil:
			keys = append(keys, itemKey(item.Update.Key))
		default:
			return nil, errors.New("awsConflicts: only Put and Update are modelled")
		}
	}
	a.transactions.Add(1)
	a.mu.Lock()
	reasons := make([]types.CancellationReason, len(keys))
	conflict := false
	for i, k := range keys {
		reasons[i].Code = aws.String("None")
		if a.held[k] {
			reasons[i].Code = aws.String("TransactionConflict")
			conflict = true
		}
	}
	if conflict {
		a.mu.Unlock()
		a.conflicts.Add(1)
		return nil, &types.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"),
			CancellationReasons: reasons,
		}
	}
	if a.held == nil {
		a.held = map[string]bool{}
	}
	for _, k := range keys {
		a.held[k] = true
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, k := range keys {
			delete(a.held, k)
		}
	}()
	out, err := a.DynamoDBAPI.TransactWriteItems(ctx, in, o...)
	time.Sleep(a.hold)
	return out, err
}

func (a *awsConflicts) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	a.mu.Lock()
	held := a.held[itemKey(in.Key)]
	a.mu.Unlock()
	if held {
		a.conflicts.Add(1)
		return nil, &types.TransactionConflictException{Message: aws.String("Transaction is ongoing for the item")}
	}
	return a.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

// BenchmarkWorkerOnAWSConflicts runs batches of 500 items through the worker as BenchmarkWorker
// does, on DynamoDB Local made to cancel transactions that meet on an item as DynamoDB does
// (awsConflicts), each transaction holding its items 10 ms longer than DynamoDB Local takes to
// answer. It compares the production worker (records side by side, an invocation's results in one
// transaction: at most five transactions in flight on the batch record, one per invocation) with
// the worker as it was (one record after another: five in flight too, one result each) and with
// records side by side, each result recorded on its own as soon as it is ready (a hundred in flight);
// and DynamoStore's patience with conflicts at 5 s (DefaultConflictPatience) with 0.3 s, about
// what the eight attempts it used to make took. It reports the transactions and the
// TransactionConflict cancellations per item, and the deliveries handed back to the queue because
// a result ran out of patience: on AWS each is a receive counted toward maxReceiveCount, and three
// make a healthy item FAILED.
func BenchmarkWorkerOnAWSConflicts(b *testing.B) {
	const items = 500
	for _, tc := range []struct {
		name  string
		setup workerSetup
	}{
		{"records=side-by-side", production},
		{"records=one-after-another", oneAfterAnother},
		{"records=side-by-side-ungrouped", ungrouped},
	} {
		for _, patience := range []time.Duration{fanout.DefaultConflictPatience, 300 * time.Millisecond} {
			for _, durationMS := range []int{0, 50} {
				b.Run(fmt.Sprintf("%s/patience=%s/work=%dms", tc.name, patience, durationMS), func(b *testing.B) {
					local, table := newFanoutTable(b)
					db := &awsConflicts{DynamoDBAPI: local, hold: 10 * time.Millisecond}
					setup := tc.setup
					setup.patience = patience
					var total batchRun
					for i := range b.N {
						r := runBatch(b, db, table, fmt.Sprintf("%032x", i+1), items, durationMS, setup)
						total.elapsed += r.elapsed
						total.handedBack += r.handedBack
					}
					perItem := func(n int64) float64 { return float64(n) / float64(items*b.N) }
					b.ReportMetric(0, "ns/op")
					b.ReportMetric(total.elapsed.Seconds()/float64(b.N), "s/batch")
					b.ReportMetric(perItem(db.transactions.Load()), "transactions/item")
					b.ReportMetric(perItem(db.conflicts.Load()), "conflicts/item")
					b.ReportMetric(perItem(total.handedBack), "handed-back/item")
					reportLoad(b)
				})
			}
		}
	}
}
