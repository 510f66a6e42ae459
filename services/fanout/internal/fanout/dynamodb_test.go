package fanout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// newDynamoStore makes a table shaped like FanoutTable in template.yaml, on DynamoDB Local.
func newDynamoStore(t testing.TB) DynamoStore {
	t.Helper()
	db := dynamotest.Start(t)
	table := dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("batchId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("batchId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	return DynamoStore{DB: db, Table: table}
}

// runningBatch is a batch of total items, just recorded.
func runningBatch(id string, total int) Batch {
	return Batch{
		ID: id, Owner: "alice", Status: StatusRunning, Total: total, Remaining: total, Published: total,
		PublishBy: t0.Add(time.Minute), Deadline: t0.Add(15 * time.Minute), Fingerprint: "f",
		StartedAt: t0, ExpiresAt: t0.Add(24 * time.Hour).Unix(),
	}
}

func done(itemID string) SubtaskResult {
	return SubtaskResult{ItemID: itemID, Status: SubtaskDone, Output: "processed " + itemID, DurationMS: 3, FinishedAt: t0}
}

func failed(itemID string) SubtaskResult {
	return SubtaskResult{ItemID: itemID, Status: SubtaskFailed, Reason: "retries exhausted", FinishedAt: t0}
}

func mustCreate(t testing.TB, s DynamoStore, b Batch) {
	t.Helper()
	if err := s.Create(context.Background(), b); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func mustGet(t testing.TB, s DynamoStore, id string) Batch {
	t.Helper()
	b, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return b
}

const batchID = "0123456789abcdef0123456789abcdef"

func TestDynamoStoreRecordCountsEachSubtaskOnce(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 3))
	if err := s.Create(ctx, runningBatch(batchID, 3)); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Create = %v; want ErrConflict", err)
	}

	steps := []struct {
		result   SubtaskResult
		wantLast bool
		wantErr  error
	}{
		{done("a"), false, nil},
		{done("a"), false, ErrDuplicate}, // redelivered: not counted again
		{failed("b"), false, nil},
		{failed("b"), false, ErrDuplicate},
		{done("c"), true, nil}, // the last one: 1 → 0 and AGGREGATING in the same transaction
		{done("c"), false, ErrDuplicate},
		{done("d"), false, ErrBatchClosed}, // no room left: an item the batch does not have
	}
	for i, step := range steps {
		last, err := s.Record(ctx, batchID, step.result)
		if last != step.wantLast || !errors.Is(err, step.wantErr) || (step.wantErr == nil && err != nil) {
			t.Fatalf("step %d: Record(%s) = %v, %v; want %v, %v", i, step.result.ItemID, last, err, step.wantLast, step.wantErr)
		}
	}
	b := mustGet(t, s, batchID)
	if b.Status != StatusAggregating || b.Remaining != 0 || b.Completed != 2 || b.Failed != 1 {
		t.Errorf("batch = %s remaining %d completed %d failed %d; want AGGREGATING 0 2 1", b.Status, b.Remaining, b.Completed, b.Failed)
	}
	var got []SubtaskResult
	if err := s.Results(ctx, batchID, func(r SubtaskResult) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ItemID != "a" || got[1].Status != SubtaskFailed || got[2].Output != "processed c" {
		t.Errorf("results = %+v; want a (done), b (failed), c (done)", got)
	}
}

func TestDynamoStoreRecordRefusesClosedBatch(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	b := runningBatch(batchID, 2)
	b.Deadline = t0
	mustCreate(t, s, b)
	if err := s.FailExpired(ctx, batchID, Failure{Reason: "deadline passed"}, t0.Add(time.Second)); err != nil {
		t.Fatalf("FailExpired: %v", err)
	}
	if _, err := s.Record(ctx, batchID, done("a")); !errors.Is(err, ErrBatchClosed) {
		t.Fatalf("Record on FAILED batch = %v; want ErrBatchClosed", err)
	}
	if got := mustGet(t, s, batchID); got.Remaining != 2 || got.Completed != 0 {
		t.Errorf("FAILED batch counted a result: remaining %d completed %d", got.Remaining, got.Completed)
	}
	n := 0
	_ = s.Results(ctx, batchID, func(SubtaskResult) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d results stored for a FAILED batch; want none (the transaction rolled back)", n)
	}
}

// TestDynamoStoreTwoLastSubtasksOneWinner is "two workers finishing together → one sink": in each
// round two goroutines record the last two subtasks of a batch at the same moment, and exactly one
// of them must be told it finished the batch.
func TestDynamoStoreTwoLastSubtasksOneWinner(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	const rounds = 40
	for round := range rounds {
		id := fmt.Sprintf("%032x", round+1)
		mustCreate(t, s, runningBatch(id, 3))
		if _, err := s.Record(ctx, id, done("first")); err != nil {
			t.Fatal(err)
		}
		var lasts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, item := range []string{"x", "y"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				last, err := s.Record(ctx, id, done(item))
				if err != nil {
					t.Errorf("round %d: Record(%s): %v", round, item, err)
				}
				if last {
					lasts.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := lasts.Load(); n != 1 {
			t.Fatalf("round %d: %d workers were told they finished the batch; want exactly 1", round, n)
		}
		if b := mustGet(t, s, id); b.Status != StatusAggregating || b.Completed != 3 || b.Remaining != 0 {
			t.Fatalf("round %d: batch %s completed %d remaining %d; want AGGREGATING 3 0", round, b.Status, b.Completed, b.Remaining)
		}
	}
}

func TestDynamoStoreConcurrentDuplicatesCountOnce(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 20))
	// Ten items, each delivered three times at once: 30 concurrent records, 10 counted.
	var wg sync.WaitGroup
	var recorded, duplicates atomic.Int32
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Record(ctx, batchID, done(fmt.Sprintf("item-%d", i%10)))
			switch {
			case err == nil:
				recorded.Add(1)
			case errors.Is(err, ErrDuplicate):
				duplicates.Add(1)
			default:
				t.Errorf("Record: %v", err)
			}
		}()
	}
	wg.Wait()
	b := mustGet(t, s, batchID)
	if recorded.Load() != 10 || duplicates.Load() != 20 || b.Completed != 10 || b.Remaining != 10 {
		t.Errorf("recorded %d, duplicates %d, batch completed %d remaining %d; want 10, 20, 10, 10",
			recorded.Load(), duplicates.Load(), b.Completed, b.Remaining)
	}
}

func TestDynamoStoreFinishOnce(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 1))
	result := Result{Succeeded: 1}
	if err := s.Finish(ctx, batchID, StatusSucceeded, result, t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("Finish on RUNNING = %v; want ErrConflict", err)
	}
	if last, err := s.Record(ctx, batchID, done("a")); !last || err != nil {
		t.Fatalf("Record = %v, %v; want last", last, err)
	}
	if err := s.Finish(ctx, batchID, StatusSucceeded, result, t0.Add(time.Second)); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if err := s.Finish(ctx, batchID, StatusCompletedWithErrors, Result{}, t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Finish = %v; want ErrConflict", err)
	}
	b := mustGet(t, s, batchID)
	if b.Status != StatusSucceeded || b.Result == nil || b.Result.Succeeded != 1 || b.FinishedAt == nil || !b.FinishedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("batch = %+v; want SUCCEEDED with the first result and finishedAt", b)
	}
	if err := s.FailExpired(ctx, batchID, Failure{}, t0.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("FailExpired on SUCCEEDED = %v; want ErrConflict", err)
	}
}

func TestDynamoStoreFanOutCursor(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	b := runningBatch(batchID, 300)
	b.Published = 0
	mustCreate(t, s, b)
	for _, n := range []int{100, 200, 100} { // the last one is a slower concurrent resume: ignored
		if err := s.Advance(ctx, batchID, n); err != nil {
			t.Fatalf("Advance(%d): %v", n, err)
		}
	}
	if got := mustGet(t, s, batchID).Published; got != 200 {
		t.Fatalf("published = %d; want 200 (the cursor never moves back)", got)
	}
	// Not resumed in time: interrupted. Not before PublishBy, and not twice.
	if err := s.FailInterrupted(ctx, batchID, Failure{Reason: "fan-out interrupted"}, b.PublishBy.Add(-time.Second)); !errors.Is(err, ErrConflict) {
		t.Fatalf("FailInterrupted before PublishBy = %v; want ErrConflict", err)
	}
	if err := s.Resume(ctx, batchID, b.PublishBy.Add(time.Minute), b.Deadline.Add(time.Minute)); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	// The deadline moved with the window: the old one no longer expires the batch.
	if err := s.FailExpired(ctx, batchID, Failure{Reason: "deadline passed"}, b.Deadline.Add(time.Second)); !errors.Is(err, ErrConflict) {
		t.Fatalf("FailExpired at the deadline before the Resume = %v; want ErrConflict", err)
	}
	if got := mustGet(t, s, batchID); !got.PublishBy.Equal(b.PublishBy.Add(time.Minute)) || !got.Deadline.Equal(b.Deadline.Add(time.Minute)) {
		t.Fatalf("after Resume: publishBy %v, deadline %v; want both a minute later", got.PublishBy, got.Deadline)
	}
	if err := s.FailInterrupted(ctx, batchID, Failure{Reason: "fan-out interrupted"}, b.PublishBy.Add(time.Second)); !errors.Is(err, ErrConflict) {
		t.Fatalf("FailInterrupted after a Resume moved PublishBy = %v; want ErrConflict", err)
	}
	if err := s.FailInterrupted(ctx, batchID, Failure{Reason: "fan-out interrupted"}, b.PublishBy.Add(2*time.Minute)); err != nil {
		t.Fatalf("FailInterrupted: %v", err)
	}
	if got := mustGet(t, s, batchID); got.Status != StatusFailed || got.Failure == nil || got.Failure.Reason != "fan-out interrupted" {
		t.Errorf("batch = %+v; want FAILED, fan-out interrupted", got)
	}
	if err := s.Resume(ctx, batchID, t0, t0); !errors.Is(err, ErrConflict) {
		t.Errorf("Resume on FAILED = %v; want ErrConflict", err)
	}
}

func TestDynamoStoreResultsPaginates(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 items")
	}
	ctx := context.Background()
	s := newDynamoStore(t)
	const n = 3000
	mustCreate(t, s, runningBatch(batchID, n))
	// Results of about 500 bytes each: 3,000 of them span two 1 MB pages.
	pad := fmt.Sprintf("%0500d", 0)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := done(fmt.Sprintf("item-%05d", i))
			r.Output = pad
			if _, err := s.Record(ctx, batchID, r); err != nil {
				t.Errorf("Record: %v", err)
			}
		}()
	}
	wg.Wait()
	pages := &pageCounter{DynamoDBAPI: s.DB}
	s.DB = pages
	seen := map[string]bool{}
	if err := s.Results(ctx, batchID, func(r SubtaskResult) error { seen[r.ItemID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n || pages.queries < 2 {
		t.Errorf("read %d distinct results in %d pages; want %d over at least 2 pages", len(seen), pages.queries, n)
	}
}

type pageCounter struct {
	DynamoDBAPI
	queries int
}

func (p *pageCounter) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.queries++
	return p.DynamoDBAPI.Query(ctx, in, optFns...)
}

// conflictingDB cancels the first n transactions with TransactionConflict, as DynamoDB does when
// another transaction holds the batch record (DynamoDB Local serialises them instead).
type conflictingDB struct {
	DynamoDBAPI
	n, calls int
}

func (c *conflictingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls++
	if c.calls <= c.n {
		return nil, &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
			{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")},
		}}
	}
	return c.DynamoDBAPI.TransactWriteItems(ctx, in, o...)
}

func TestDynamoStoreRecordRetriesTransactionConflicts(t *testing.T) {
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 2))
	db := &conflictingDB{DynamoDBAPI: s.DB, n: 3}
	s.DB = db
	if _, err := s.Record(context.Background(), batchID, done("a")); err != nil {
		t.Fatalf("Record after 3 conflicts: %v", err)
	}
	if db.calls != 4 || mustGet(t, s, batchID).Completed != 1 {
		t.Errorf("%d transactions, completed %d; want 4 and 1", db.calls, mustGet(t, s, batchID).Completed)
	}
	db.calls, db.n = 0, 1_000_000
	s.ConflictPatience = 200 * time.Millisecond
	if _, err := s.Record(context.Background(), batchID, done("b")); err == nil || errors.Is(err, ErrDuplicate) {
		t.Errorf("Record under endless conflicts = %v; want an error so the message is retried later", err)
	}
	if db.calls < 2 {
		t.Errorf("%d attempts; want it tried again until its patience ran out", db.calls)
	}
}

// heldDB refuses the first n UpdateItem calls with TransactionConflictException, as DynamoDB does
// with a plain write to an item an in-flight transaction holds (DynamoDB Local never does).
type heldDB struct {
	DynamoDBAPI
	n, calls int
}

func (h *heldDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	h.calls++
	if h.calls <= h.n {
		return nil, &types.TransactionConflictException{Message: aws.String("Transaction is ongoing for the item")}
	}
	return h.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

// TestSubmitSurvivesTransactionConflictOnCursor: the ventilator's cursor write lands while workers'
// transactions hold the batch record. Refused twice, it is tried again and the fan-out completes.
func TestSubmitSurvivesTransactionConflictOnCursor(t *testing.T) {
	s, q := newDynamoStore(t), &fakeQueue{}
	db := &heldDB{DynamoDBAPI: s.DB, n: 2}
	s.DB = db
	b, err := newSubmitter(s, q).Submit(context.Background(), "alice", Input{Items: items(15)}, "", "")
	if err != nil {
		t.Fatalf("Submit with the cursor write refused twice: %v; want success", err)
	}
	if got := mustGet(t, s, b.ID).Published; got != 15 || len(q.sent) != 15 || db.calls != 3 {
		t.Errorf("published %d, sent %d, %d UpdateItem calls; want 15, 15, 3", got, len(q.sent), db.calls)
	}
}

// TestDynamoStoreUpdateGivesUpOnEndlessTransactionConflicts: every write of the batch record
// (cursor, the sink's Finish, the FAILED transitions) is tried again until its patience runs out,
// then fails with an error that says what it was doing and still carries the SDK's error.
func TestDynamoStoreUpdateGivesUpOnEndlessTransactionConflicts(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	b := runningBatch(batchID, 1)
	b.Deadline = t0
	mustCreate(t, s, b)
	tests := []struct {
		name  string
		write func(DynamoStore) error
		doing string
	}{
		{"Advance", func(s DynamoStore) error { return s.Advance(ctx, batchID, 1) }, "advance fan-out cursor of batch"},
		{"Finish", func(s DynamoStore) error { return s.Finish(ctx, batchID, StatusSucceeded, Result{}, t0) }, "finish batch"},
		{"FailExpired", func(s DynamoStore) error { return s.FailExpired(ctx, batchID, Failure{}, t0.Add(time.Hour)) }, "fail batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &heldDB{DynamoDBAPI: s.DB, n: 1000}
			held := s
			held.DB = db
			held.ConflictPatience = 200 * time.Millisecond
			err := tt.write(held)
			var tce *types.TransactionConflictException
			if !errors.As(err, &tce) || errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), tt.doing) {
				t.Fatalf("%s under endless conflicts = %v; want a TransactionConflictException naming %q", tt.name, err, tt.doing)
			}
			if db.calls < 2 {
				t.Errorf("%d attempts; want it tried again until its patience ran out", db.calls)
			}
		})
	}
	if got := mustGet(t, s, batchID); got.Status != StatusRunning {
		t.Errorf("batch %s after refused writes; want RUNNING, unchanged", got.Status)
	}
}
