package fanout

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReaderGet(t *testing.T) {
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 2))
	r := Reader{Batches: s, Now: func() time.Time { return t0.Add(time.Second) }}
	got, err := r.Get(context.Background(), "alice", batchID)
	if err != nil || got.ID != batchID || got.Status != StatusRunning {
		t.Fatalf("Get(owner) = %+v, %v; want the running batch", got, err)
	}
	for _, tt := range []struct{ owner, id string }{
		{"mallory", batchID},
		{"alice", "ffffffffffffffffffffffffffffffff"},
		{"alice", "../../etc/passwd"},
	} {
		if _, err := r.Get(context.Background(), tt.owner, tt.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v; want ErrNotFound", tt.owner, tt.id, err)
		}
	}
}

func TestReaderMarksInterruptedFanOutFailed(t *testing.T) {
	s := newDynamoStore(t)
	b := runningBatch(batchID, 100)
	b.Published = 40
	mustCreate(t, s, b)
	before := Reader{Batches: s, Now: func() time.Time { return b.PublishBy.Add(-time.Second) }}
	if got, _ := before.Get(context.Background(), "alice", batchID); got.Status != StatusRunning {
		t.Fatalf("before PublishBy: %s; want RUNNING (the fan-out may still be going)", got.Status)
	}
	after := Reader{Batches: s, Now: func() time.Time { return b.PublishBy.Add(time.Second) }}
	got, err := after.Get(context.Background(), "alice", batchID)
	if err != nil || got.Status != StatusFailed || got.Failure == nil || got.Failure.Reason != "fan-out interrupted" {
		t.Fatalf("after PublishBy = %+v, %v; want FAILED, fan-out interrupted", got, err)
	}
	// The workers agree: a subtask of the failed batch is dropped, not counted.
	if _, err := s.Record(context.Background(), batchID, done("item-1")); !errors.Is(err, ErrBatchClosed) {
		t.Errorf("Record after FAILED = %v; want ErrBatchClosed", err)
	}
}

func TestReaderMarksExpiredBatchFailed(t *testing.T) {
	s := newDynamoStore(t)
	b := runningBatch(batchID, 2)
	mustCreate(t, s, b)
	if _, err := s.Record(context.Background(), batchID, done("a")); err != nil {
		t.Fatal(err)
	}
	r := Reader{Batches: s, Now: func() time.Time { return b.Deadline.Add(time.Second) }}
	got, err := r.Get(context.Background(), "alice", batchID)
	if err != nil || got.Status != StatusFailed || got.Failure.Reason != "deadline passed" || got.Completed != 1 {
		t.Fatalf("past deadline = %+v, %v; want FAILED, deadline passed, 1 completed", got, err)
	}
}
