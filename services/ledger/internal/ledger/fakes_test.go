package ledger

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// memStore is an in-memory Store with the same contract as DynamoStore. conflicts makes the
// next n appends lose a race (as if another writer took the version first).
type memStore struct {
	mu        sync.Mutex
	events    map[string][]Event
	snapshots map[string][]Account
	receipts  map[string]Receipt
	conflicts int
	appends   int
	failWith  error
}

func newMemStore() *memStore {
	return &memStore{events: map[string][]Event{}, snapshots: map[string][]Account{}, receipts: map[string]Receipt{}}
}

func (m *memStore) Load(_ context.Context, id string) (Loaded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var l Loaded
	if snaps := m.snapshots[id]; len(snaps) > 0 {
		l.Account, l.ItemsRead = snaps[len(snaps)-1], 1
	}
	var tail []Event
	for _, e := range m.events[id] {
		if e.Version > l.Account.Version {
			tail = append(tail, e)
		}
	}
	l.ItemsRead += len(tail)
	acct, err := Replay(l.Account, tail)
	if err != nil {
		return Loaded{}, err
	}
	if acct.Version == 0 {
		return Loaded{}, ErrNotFound
	}
	l.Account = acct
	return l, nil
}

func (m *memStore) Append(_ context.Context, a Append) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	if m.failWith != nil {
		return m.failWith
	}
	if r, ok := m.receipts[idOf(a.Receipt)]; ok && a.Receipt != nil && !r.ExpiresAt.Before(a.Event.At) {
		return ErrDuplicateCommand
	}
	if m.conflicts > 0 {
		m.conflicts--
		return ErrVersionConflict
	}
	id := a.Event.AccountID
	if v := a.Event.Version; v >= 1 && int64(len(m.events[id])) >= v && a.Event.CommandID != "" && m.events[id][v-1].CommandID == a.Event.CommandID {
		return nil // this write, applied by an earlier try (DynamoStore's contract)
	}
	if int64(len(m.events[id]))+1 != a.Event.Version {
		return ErrVersionConflict
	}
	m.events[id] = append(m.events[id], a.Event)
	if a.Snapshot != nil {
		m.snapshots[id] = append(m.snapshots[id], *a.Snapshot)
	}
	if a.Receipt != nil {
		m.receipts[a.Receipt.ID] = *a.Receipt
	}
	return nil
}

func idOf(r *Receipt) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func (m *memStore) Receipt(_ context.Context, id string, now time.Time) (Receipt, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.receipts[id]
	if !ok || r.ExpiresAt.Before(now) {
		return Receipt{}, false, nil
	}
	return r, true, nil
}

func (m *memStore) Events(_ context.Context, id string, after int64, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events[id] {
		if e.Version > after && (limit == 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) Owner(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events[id]) == 0 {
		return "", ErrNotFound
	}
	return m.events[id][0].Owner, nil
}

func (m *memStore) eventsOf(id string) []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events[id])
}

// newLedger returns a Ledger over store whose waits are recorded instead of slept.
func newLedger(store Store, waits *[]time.Duration) Ledger {
	n := 0
	return Ledger{
		Store: store, SnapshotEvery: 3, MaxAttempts: 4,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Millisecond },
		Sleep: func(_ context.Context, d time.Duration) error {
			if waits != nil {
				*waits = append(*waits, d)
			}
			return nil
		},
		ReceiptTTL: time.Hour,
		Now:        func() time.Time { return t0 },
		NewID: func() string {
			n++
			return fmt.Sprintf("acct-%d", n)
		},
	}
}
