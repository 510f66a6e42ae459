package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore/dynamostoretest"
)

func TestStoreCheckpointRules(t *testing.T) {
	ctx := context.Background()
	s := dynamostoretest.New(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	imp := imports.Import{ID: "i-1", Owner: "alice", Bucket: "b", Key: "imports/alice/a.csv", ETag: "e", Size: 100, Format: imports.FormatCSV, Status: imports.StatusRunning, CreatedAt: now, UpdatedAt: now}

	if _, err := s.Get(ctx, "i-1"); !errors.Is(err, imports.ErrNotFound) {
		t.Fatalf("Get before Create = %v; want ErrNotFound", err)
	}
	if err := s.Create(ctx, imp); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, imp); !errors.Is(err, imports.ErrConflict) {
		t.Fatalf("second Create = %v; want ErrConflict", err)
	}
	claimed, err := s.Claim(ctx, "i-1", 0, now)
	if err != nil || claimed.Invocations != 1 || claimed.Depth != 0 || claimed.Key != imp.Key {
		t.Fatalf("Claim(0) = %+v, %v; want the import with 1 invocation", claimed, err)
	}
	if err := s.Checkpoint(ctx, "i-1", 0, imports.Checkpoint{Offset: 40, Line: 3, Accepted: 2, Rejected: 1, Hop: &imports.Hop{Depth: 0}, Now: now}); err != nil {
		t.Fatal(err)
	}
	// A second invocation from the same offset lost the race: its checkpoint is refused, and
	// its hop is not recorded.
	if err := s.Checkpoint(ctx, "i-1", 0, imports.Checkpoint{Offset: 40, Line: 3, Accepted: 2, Rejected: 1, Hop: &imports.Hop{Depth: 1}, Now: now}); !errors.Is(err, imports.ErrConflict) {
		t.Fatalf("Checkpoint from a stale offset = %v; want ErrConflict", err)
	}
	if _, err := s.Claim(ctx, "i-1", 2, now); err != nil {
		t.Fatalf("Claim(2): %v", err)
	}
	if _, err := s.Claim(ctx, "i-1", 1, now); !errors.Is(err, imports.ErrConflict) {
		t.Fatalf("Claim(1) after hop 2 = %v; want ErrConflict", err)
	}
	if err := s.Fail(ctx, "i-1", 1, "late report", now); !errors.Is(err, imports.ErrConflict) {
		t.Fatalf("Fail from hop 1 after hop 2 claimed = %v; want ErrConflict", err)
	}
	if err := s.Checkpoint(ctx, "i-1", 40, imports.Checkpoint{Offset: 100, Line: 7, Accepted: 4, Done: true, Hop: &imports.Hop{Depth: 2, Offset: 40, Line: 3}, Now: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "i-1")
	if want := []imports.Hop{{Depth: 0}, {Depth: 2, Offset: 40, Line: 3}}; !slices.Equal(got.Hops, want) {
		t.Errorf("hops = %+v; want %+v, the refused checkpoint's left out", got.Hops, want)
	}
	if got.Status != imports.StatusSucceeded || got.Offset != 100 || got.Line != 7 || got.Accepted != 6 || got.Rejected != 1 || got.Invocations != 2 || got.FinishedAt == nil {
		t.Fatalf("import = %+v; want SUCCEEDED at byte 100 line 7, 6 accepted, 1 rejected, 2 invocations", got)
	}
	if _, err := s.Claim(ctx, "i-1", 3, now); !errors.Is(err, imports.ErrConflict) {
		t.Errorf("Claim of a finished import = %v; want ErrConflict", err)
	}
	if err := s.Fail(ctx, "i-1", 3, "x", now); !errors.Is(err, imports.ErrConflict) {
		t.Errorf("Fail of a finished import = %v; want ErrConflict", err)
	}
}

func TestStoreWritesAndReadsRejects(t *testing.T) {
	ctx := context.Background()
	s := dynamostoretest.New(t)
	var rejects []imports.Reject
	for line := int64(60); line >= 1; line-- { // out of order, more than one BatchWriteItem
		rejects = append(rejects, imports.Reject{Line: line, Reason: fmt.Sprintf("reason %d", line)})
	}
	if err := s.WriteRejects(ctx, "i-1", rejects); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRejects(ctx, "i-1", rejects[:5]); err != nil { // a rerun rewrites
		t.Fatal(err)
	}
	got, err := s.Rejects(ctx, "i-1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0] != (imports.Reject{Line: 1, Reason: "reason 1"}) || got[9].Line != 10 {
		t.Errorf("Rejects = %+v; want lines 1 to 10 in order", got)
	}
}

// unprocessedDB leaves the last item of each BatchWriteItem call unprocessed the first times,
// as DynamoDB does when it throttles a batch.
type unprocessedDB struct {
	dynamostore.API
	refusals int
	calls    int
}

func (u *unprocessedDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	u.calls++
	for table, reqs := range in.RequestItems {
		if u.refusals > 0 && len(reqs) > 0 {
			u.refusals--
			keep, left := reqs[:len(reqs)-1], reqs[len(reqs)-1:]
			if len(keep) == 0 {
				return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: left}}, nil
			}
			if _, err := u.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: keep}}, opts...); err != nil {
				return nil, err
			}
			return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: left}}, nil
		}
	}
	return u.API.BatchWriteItem(ctx, in, opts...)
}

func TestStoreRetriesUnprocessedItems(t *testing.T) {
	ctx := context.Background()
	s := dynamostoretest.New(t)
	var waits []time.Duration
	s.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	s.WriteAttempts = 4
	db := &unprocessedDB{API: s.DB, refusals: 3}
	s.DB = db

	orders := []imports.Order{{ImportID: "i-1", Line: 1, OrderID: "o-1", Customer: "Ada", Amount: 1, Currency: "EUR"}, {ImportID: "i-1", Line: 2, OrderID: "o-2", Customer: "Bob", Amount: 2, Currency: "EUR"}}
	if err := s.WriteOrders(ctx, orders); err != nil {
		t.Fatalf("WriteOrders: %v", err)
	}
	if n := dynamostoretest.CountItems(t, s, s.OrdersTable, "i-1"); n != 2 {
		t.Errorf("%d orders stored; want 2", n)
	}
	if fmt.Sprint(waits) != "[50ms 100ms 200ms]" {
		t.Errorf("waits %v; want exponential backoff [50ms 100ms 200ms]", waits)
	}
	// Past WriteAttempts the write fails, so the checkpoint does not move past lost items.
	db.refusals = 10
	err := s.WriteOrders(ctx, orders)
	if !errors.Is(err, dynamostore.ErrUnprocessed) {
		t.Errorf("WriteOrders with every attempt throttled = %v; want ErrUnprocessed", err)
	}
}
