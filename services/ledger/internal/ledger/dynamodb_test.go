package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// countingDB counts the items every Query returns and the read capacity it consumes: the cost of
// a read.
type countingDB struct {
	*dynamodb.Client
	mu    sync.Mutex
	items int
	units float64
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.Query(ctx, in, optFns...)
	if err == nil {
		c.mu.Lock()
		c.items += len(out.Items)
		if out.ConsumedCapacity != nil {
			c.units += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		c.mu.Unlock()
	}
	return out, err
}

// reset returns the items read since the last reset.
func (c *countingDB) reset() int {
	n, _ := c.resetAll()
	return n
}

// resetAll returns the items read and the read capacity units consumed since the last reset.
func (c *countingDB) resetAll() (items int, units float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, units = c.items, c.units
	c.items, c.units = 0, 0
	return items, units
}

func keyed(hash, hashType, rng string, rngType types.ScalarAttributeType) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(hash), AttributeType: types.ScalarAttributeType(hashType)}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}},
	}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(rng), AttributeType: rngType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return in
}

// newDynamoStore makes the events, snapshots and receipts tables shaped as in template.yaml.
func newDynamoStore(t testing.TB) (DynamoStore, *countingDB) {
	t.Helper()
	db := &countingDB{Client: dynamotest.Start(t)}
	return DynamoStore{
		DB:             db,
		EventsTable:    dynamotest.CreateTable(t, db.Client, keyed("accountId", "S", "version", types.ScalarAttributeTypeN)),
		SnapshotsTable: dynamotest.CreateTable(t, db.Client, keyed("accountId", "S", "version", types.ScalarAttributeTypeN)),
		ReceiptsTable:  dynamotest.CreateTable(t, db.Client, keyed("id", "S", "", "")),
	}, db
}

// realLedger runs on DynamoDB Local with real, jittered waits (short ones).
func realLedger(store Store, snapshotEvery int64) Ledger {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(1, 2))
	return Ledger{
		Store: store, SnapshotEvery: snapshotEvery, MaxAttempts: 100,
		Backoff: JitteredBackoff(time.Millisecond, 20*time.Millisecond, func(n int64) int64 {
			mu.Lock()
			defer mu.Unlock()
			return r.Int64N(n)
		}),
		Sleep: SleepContext, ReceiptTTL: time.Hour, Now: time.Now,
		NewID: func() string { return fmt.Sprintf("acct-%d", rand.Int64()) },
	}
}

// allEvents reads an account's whole history, for checks.
func allEvents(t *testing.T, s DynamoStore, id string) []Event {
	t.Helper()
	events, err := s.Events(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestConcurrentWithdrawalsNeverOverdraw(t *testing.T) {
	store, _ := newDynamoStore(t)
	l := realLedger(store, 10)
	ctx := context.Background()
	id := openWith(t, l, 1000) // versions 1, 2

	const workers, amount = 50, 30 // 50 × 30 = 1,500 asked of 1,000: at most 33 can succeed
	var wg sync.WaitGroup
	results := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, results[i] = l.Move(ctx, "alice", id, Withdrawn, amount, Request{})
		})
	}
	wg.Wait()

	accepted, refused := 0, 0
	for i, err := range results {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrInsufficientFunds):
			refused++
		default:
			t.Errorf("withdrawal %d: %v, want success or ErrInsufficientFunds", i, err)
		}
	}
	if accepted != 33 || refused != 17 {
		t.Errorf("accepted %d, refused %d; want 33 and 17", accepted, refused)
	}
	events := allEvents(t, store, id)
	for i, e := range events {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d: versions are not contiguous", i, e.Version)
		}
	}
	if got, want := len(events), 2+accepted; got != want {
		t.Errorf("events = %d, want %d (open, deposit and one per accepted withdrawal)", got, want)
	}
	acct, err := l.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(1000 - amount*accepted); acct.Balance != want || acct.Version != int64(len(events)) {
		t.Errorf("account = %+v, want balance %d at version %d", acct, want, len(events))
	}
}

func TestAppendConflicts(t *testing.T) {
	store, _ := newDynamoStore(t)
	ctx := context.Background()
	e := Event{AccountID: "a1", Version: 1, Type: Opened, Owner: "alice", At: t0}
	if err := store.Append(ctx, Append{Event: e}); err != nil {
		t.Fatal(err)
	}
	if err := store.Append(ctx, Append{Event: e}); !errors.Is(err, ErrVersionConflict) {
		t.Errorf("second put of version 1 = %v, want ErrVersionConflict", err)
	}
	snap := Account{ID: "a1", Owner: "alice", Version: 1}
	if err := store.Append(ctx, Append{Event: e, Snapshot: &snap}); !errors.Is(err, ErrVersionConflict) {
		t.Errorf("transaction with version 1 again = %v, want ErrVersionConflict", err)
	}
	r := &Receipt{ID: "k", Fingerprint: "f", Account: snap, ExpiresAt: t0.Add(time.Hour)}
	e2 := Event{AccountID: "a1", Version: 2, Type: Deposited, Amount: 5, Owner: "alice", At: t0}
	if err := store.Append(ctx, Append{Event: e2, Receipt: r}); err != nil {
		t.Fatal(err)
	}
	e3 := e2
	e3.Version = 3
	if err := store.Append(ctx, Append{Event: e3, Receipt: r}); !errors.Is(err, ErrDuplicateCommand) {
		t.Errorf("append with an existing receipt = %v, want ErrDuplicateCommand", err)
	}
	if n := len(allEvents(t, store, "a1")); n != 2 {
		t.Errorf("events = %d, want 2: a cancelled transaction wrote", n)
	}
	// An expired receipt no longer blocks its key.
	e3.At = t0.Add(2 * time.Hour)
	if err := store.Append(ctx, Append{Event: e3, Receipt: &Receipt{ID: "k", Fingerprint: "g", ExpiresAt: e3.At.Add(time.Hour)}}); err != nil {
		t.Errorf("append over an expired receipt = %v, want success", err)
	}
}

func TestIdempotentRetryOnDynamoDB(t *testing.T) {
	store, _ := newDynamoStore(t)
	l := realLedger(store, 10)
	ctx := context.Background()
	id := openWith(t, l, 100)
	req := Request{IdempotencyKey: "pay-rent", Fingerprint: "withdraw 60"}

	// Ten concurrent retries of one command: one withdrawal, ten identical answers.
	var wg sync.WaitGroup
	answers := make([]Result, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() { answers[i], errs[i] = l.Move(ctx, "alice", id, Withdrawn, 60, req) })
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil || answers[i].Account != answers[0].Account {
			t.Errorf("retry %d = %+v, %v; want %+v", i, answers[i], errs[i], answers[0].Account)
		}
	}
	if n := len(allEvents(t, store, id)); n != 3 {
		t.Errorf("events = %d, want 3: a retried command appended twice", n)
	}
	if acct, _ := l.Get(ctx, "alice", id); acct.Balance != 40 {
		t.Errorf("balance = %d, want 40", acct.Balance)
	}
}

func TestSnapshotBoundaries(t *testing.T) {
	const n = 10
	for _, events := range []int{n - 1, n, n + 1} {
		t.Run(fmt.Sprintf("%d events", events), func(t *testing.T) {
			store, db := newDynamoStore(t)
			l := realLedger(store, n)
			ctx := context.Background()
			id := openWith(t, l, 0)
			for range events - 1 {
				if _, err := l.Move(ctx, "alice", id, Deposited, 1, Request{}); err != nil {
					t.Fatal(err)
				}
			}
			db.reset()
			loaded, err := store.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// n-1: no snapshot yet, n-1 events. n: the snapshot, and the n-1 newest events read
			// with it in the same round trip (all at or before it: none applied). n+1: the
			// snapshot, and the n-1 newest events, of which the last is applied.
			wantItems := map[int]int{n - 1: n - 1, n: n, n + 1: n}[events]
			if loaded.ItemsRead != wantItems || db.reset() != wantItems {
				t.Errorf("items read = %d, want %d", loaded.ItemsRead, wantItems)
			}
			want := Account{ID: id, Owner: "alice", Balance: int64(events - 1), Version: int64(events)}
			if loaded.Account != want {
				t.Errorf("account = %+v, want %+v", loaded.Account, want)
			}
		})
	}
}

// TestRebuildFromSnapshotEqualsReplay is a property test: for random command sequences and
// snapshot intervals, the state rebuilt from the latest snapshot plus the events after it equals
// the state replayed from the first event.
func TestRebuildFromSnapshotEqualsReplay(t *testing.T) {
	store, _ := newDynamoStore(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(42, 7))
	for trial := range 20 {
		l := realLedger(store, int64(1+r.IntN(7)))
		id := openWith(t, l, 0)
		for range r.IntN(40) {
			kind, amount := Deposited, 1+r.Int64N(100)
			if r.IntN(2) == 0 {
				kind = Withdrawn
			}
			_, err := l.Move(ctx, "alice", id, kind, amount, Request{})
			if err != nil && !errors.Is(err, ErrInsufficientFunds) {
				t.Fatal(err)
			}
		}
		loaded, err := store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		replayed, err := Replay(Account{}, allEvents(t, store, id))
		if err != nil {
			t.Fatal(err)
		}
		if loaded.Account != replayed {
			t.Fatalf("trial %d (snapshot every %d): rebuilt %+v, replayed %+v", trial, l.SnapshotEvery, loaded.Account, replayed)
		}
	}
}

// seedAccount writes an account with n events (an opening and n-1 deposits of 1) straight to the
// tables with BatchWriteItem, with a snapshot every snapshotEvery events (0: none). It folds the
// events with Apply, so the data is what commands would have written, in a fraction of the time.
func seedAccount(t testing.TB, s DynamoStore, db *dynamodb.Client, id string, n int, snapshotEvery int64) {
	t.Helper()
	ctx := context.Background()
	var requests []types.WriteRequest
	var tables []string
	acct := Account{}
	for v := 1; v <= n; v++ {
		e := Event{AccountID: id, Version: int64(v), Type: Deposited, Amount: 1, Owner: "alice", At: t0}
		if v == 1 {
			e = opened(id, "alice")
		}
		var err error
		if acct, err = acct.Apply(e); err != nil {
			t.Fatal(err)
		}
		item, err := attributevalue.MarshalMap(e)
		if err != nil {
			t.Fatal(err)
		}
		requests, tables = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}), append(tables, s.EventsTable)
		if snapshotEvery > 0 && acct.Version%snapshotEvery == 0 {
			snap, err := attributevalue.MarshalMap(acct)
			if err != nil {
				t.Fatal(err)
			}
			requests, tables = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: snap}}), append(tables, s.SnapshotsTable)
		}
	}
	// Four writers at once: DynamoDB Local takes most of the time, not the client.
	chunks := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for start := range chunks {
				batch := map[string][]types.WriteRequest{}
				for i := start; i < min(start+25, len(requests)); i++ {
					batch[tables[i]] = append(batch[tables[i]], requests[i])
				}
				for len(batch) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
					if err != nil {
						select { // keep the first error; keep draining chunks so the sender never blocks
						case errs <- err:
						default:
						}
						break
					}
					batch = out.UnprocessedItems
				}
			}
		})
	}
	for start := 0; start < len(requests); start += 25 {
		chunks <- start
	}
	close(chunks)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("seed account %s: %v", id, err)
	}
}

func TestTenThousandEventsReadAtMostNPlusOneItems(t *testing.T) {
	const n = 10
	store, db := newDynamoStore(t)
	for _, events := range []int{10_000} {
		id := fmt.Sprintf("big-%d", events)
		seedAccount(t, store, db.Client, id, events, n)
		db.reset()
		loaded, err := store.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got := db.reset(); got > n+1 || got != loaded.ItemsRead {
			t.Errorf("%d events: items read = %d (reported %d), want at most %d", events, got, loaded.ItemsRead, n+1)
		}
		if want := int64(events - 1); loaded.Account.Balance != want || loaded.Account.Version != int64(events) {
			t.Errorf("%d events: account = %+v, want balance %d", events, loaded.Account, want)
		}
	}
}
