package ledger

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/go-serverless/reference/shared/metrics/metricstest"
)

func TestLedgerCountsAppendsConflictsRetriesAndReads(t *testing.T) {
	store := newMemStore()
	l := newLedger(store, nil)
	m := &metricstest.Recorder{}
	l.Metrics = m
	id := openWith(t, l, 100) // 1 append (open), 1 read of 1 event, 1 append (deposit)

	store.conflicts = 2 // two lost races, then the third attempt wins
	if _, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{}); err != nil {
		t.Fatal(err)
	}
	store.conflicts = 100 // every attempt loses: MaxAttempts (4) conflicts, 3 retries, nothing appended
	if _, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("Move = %v; want ErrConflict", err)
	}

	want := map[string]float64{
		MetricEventsAppended:  3,
		MetricAppendConflicts: 6,
		MetricAppendRetries:   5,
		// 1 read of 1 event, 3 reads of 2, then (the snapshot at version 3) 4 reads of 1.
		MetricItemsReadPerRebuild: 1 + 3*2 + 4*1,
	}
	if !maps.Equal(m.Sums(), want) {
		t.Errorf("metrics = %v; want %v", m.Sums(), want)
	}
	if n := m.Values(MetricItemsReadPerRebuild); n != 8 {
		t.Errorf("%d rebuilds recorded; want 8 (one value per read)", n)
	}
}
