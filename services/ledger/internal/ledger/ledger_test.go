package ledger

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// openWith opens an account for alice and deposits amount into it.
func openWith(t *testing.T, l Ledger, amount int64) string {
	t.Helper()
	ctx := context.Background()
	res, err := l.Open(ctx, "alice", Request{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if amount > 0 {
		if _, err := l.Move(ctx, "alice", res.Account.ID, Deposited, amount, Request{}); err != nil {
			t.Fatalf("deposit: %v", err)
		}
	}
	return res.Account.ID
}

func TestMoveRetriesLostRacesWithBackoff(t *testing.T) {
	store := newMemStore()
	var waits []time.Duration
	l := newLedger(store, &waits)
	id := openWith(t, l, 100)

	store.conflicts = 2
	res, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{CorrelationID: "c-1"})
	if err != nil {
		t.Fatalf("Move() = %v, want success on the third attempt", err)
	}
	if res.Account.Balance != 70 || res.Account.Version != 3 {
		t.Errorf("account = %+v, want balance 70 at version 3", res.Account)
	}
	if want := []time.Duration{time.Millisecond, 2 * time.Millisecond}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	events := store.eventsOf(id)
	if last := events[len(events)-1]; last.CorrelationID != "c-1" || last.Type != Withdrawn {
		t.Errorf("last event = %+v, want a withdrawal carrying correlation id c-1", last)
	}
}

func TestMoveGivesUpAfterMaxAttempts(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 100)
	before := store.appends
	store.conflicts = 100
	_, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Move() = %v, want ErrConflict", err)
	}
	if got := store.appends - before; got != l.MaxAttempts {
		t.Errorf("appends = %d, want MaxAttempts (%d)", got, l.MaxAttempts)
	}
}

func TestMoveWithIfMatch(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 100) // version 2
	ctx := context.Background()

	if _, err := l.Move(ctx, "alice", id, Withdrawn, 10, Request{IfMatch: 1}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("Move(If-Match 1 at version 2) = %v, want ErrPreconditionFailed", err)
	}
	// Lost race with If-Match: no retry, 412.
	store.conflicts = 1
	before := store.appends
	if _, err := l.Move(ctx, "alice", id, Withdrawn, 10, Request{IfMatch: 2}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("Move(If-Match 2, race lost) = %v, want ErrPreconditionFailed", err)
	}
	if got := store.appends - before; got != 1 {
		t.Errorf("appends = %d, want 1 (no retry with If-Match)", got)
	}
	res, err := l.Move(ctx, "alice", id, Withdrawn, 10, Request{IfMatch: 2})
	if err != nil || res.Account.Version != 3 || res.Account.Balance != 90 {
		t.Fatalf("Move(If-Match 2) = %+v, %v; want balance 90 at version 3", res, err)
	}
	if n := len(store.eventsOf(id)); n != 3 {
		t.Errorf("events = %d, want 3 (the refused commands wrote nothing)", n)
	}
}

func TestRefusedCommandsWriteNothing(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 100)
	ctx := context.Background()
	before := store.appends
	tests := []struct {
		name  string
		owner string
		id    string
		kind  EventType
		want  error
	}{
		{"insufficient funds", "alice", id, Withdrawn, ErrInsufficientFunds},
		{"someone else's account", "mallory", id, Deposited, ErrNotFound},
		{"no such account", "alice", "nope", Deposited, ErrNotFound},
	}
	for _, tt := range tests {
		amount := int64(101)
		if _, err := l.Move(ctx, tt.owner, tt.id, tt.kind, amount, Request{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: Move() = %v, want %v", tt.name, err, tt.want)
		}
	}
	if store.appends != before {
		t.Errorf("appends = %d, want %d: a refused command wrote", store.appends, before)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 100)
	ctx := context.Background()
	req := Request{IdempotencyKey: "k1", Fingerprint: "withdraw 30"}

	first, err := l.Move(ctx, "alice", id, Withdrawn, 30, req)
	if err != nil || first.Replayed {
		t.Fatalf("first Move() = %+v, %v; want applied", first, err)
	}
	again, err := l.Move(ctx, "alice", id, Withdrawn, 30, req)
	if err != nil || !again.Replayed || again.Account != first.Account {
		t.Fatalf("retry = %+v, %v; want the first answer %+v, replayed", again, err, first.Account)
	}
	if n := len(store.eventsOf(id)); n != 3 {
		t.Errorf("events = %d, want 3: the retry appended", n)
	}
	if _, err := l.Move(ctx, "alice", id, Withdrawn, 40, Request{IdempotencyKey: "k1", Fingerprint: "withdraw 40"}); !errors.Is(err, ErrKeyReused) {
		t.Errorf("same key, other command = %v, want ErrKeyReused", err)
	}
	// Keys are scoped by caller: bob's k1 is another key.
	if _, err := l.Open(ctx, "bob", Request{IdempotencyKey: "k1", Fingerprint: "open"}); err != nil {
		t.Errorf("bob's k1 = %v, want a new account", err)
	}
}

func TestIdempotencyKeyRaceAnswersFromTheWinnersReceipt(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 100)
	// The receipt appears between the first check and the append: a concurrent retry won.
	store.receipts["ledger/alice/k2"] = Receipt{ID: "ledger/alice/k2", Fingerprint: "f", Account: Account{ID: id, Balance: 70, Version: 3}, ExpiresAt: t0.Add(time.Hour)}
	l.Store = &raceStore{memStore: store}
	res, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{IdempotencyKey: "k2", Fingerprint: "f"})
	if err != nil || !res.Replayed || res.Account.Balance != 70 {
		t.Fatalf("Move() = %+v, %v; want the winner's answer", res, err)
	}
}

// raceStore hides receipts from the first Receipt call, as if they were written just after it.
type raceStore struct {
	*memStore
	calls int
}

func (r *raceStore) Receipt(ctx context.Context, id string, now time.Time) (Receipt, bool, error) {
	r.calls++
	if r.calls == 1 {
		return Receipt{}, false, nil
	}
	return r.memStore.Receipt(ctx, id, now)
}

func TestSnapshotsAreWrittenEveryNthEvent(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil) // SnapshotEvery 3
	id := openWith(t, l, 0)
	for range 6 {
		if _, err := l.Move(context.Background(), "alice", id, Deposited, 1, Request{}); err != nil {
			t.Fatal(err)
		}
	}
	var versions []int64
	for _, s := range store.snapshots[id] {
		versions = append(versions, s.Version)
	}
	if want := []int64{3, 6}; !reflect.DeepEqual(versions, want) {
		t.Errorf("snapshot versions = %v, want %v", versions, want)
	}
	l.SnapshotEvery = 0
	if _, err := l.Move(context.Background(), "alice", id, Deposited, 1, Request{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Move(context.Background(), "alice", id, Deposited, 1, Request{}); err != nil {
		t.Fatal(err)
	}
	if n := len(store.snapshots[id]); n != 2 {
		t.Errorf("snapshots = %d with SnapshotEvery 0, want still 2", n)
	}
}

func TestHistoryPages(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	id := openWith(t, l, 5)
	ctx := context.Background()
	page, more, err := l.History(ctx, "alice", id, 0, 1)
	if err != nil || len(page) != 1 || page[0].Version != 1 || !more {
		t.Fatalf("History(after 0, limit 1) = %+v, %v, %v; want version 1 and more", page, more, err)
	}
	page, more, err = l.History(ctx, "alice", id, 1, 1)
	if err != nil || len(page) != 1 || page[0].Version != 2 || more {
		t.Fatalf("History(after 1, limit 1) = %+v, %v, %v; want version 2, last page", page, more, err)
	}
	if _, _, err := l.History(ctx, "mallory", id, 0, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("History(someone else's) = %v, want ErrNotFound", err)
	}
}
