package jobs

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReaderGet(t *testing.T) {
	job := pendingJob()
	r := Reader{Jobs: newMemStore(job), Now: func() time.Time { return t0.Add(time.Minute) }}
	got, err := r.Get(context.Background(), "alice", jobID)
	if err != nil || got.ID != jobID || got.Status != StatusPending {
		t.Fatalf("Get(owner) = %+v, %v; want the pending job", got, err)
	}
	for _, tt := range []struct{ owner, id string }{
		{"mallory", jobID}, // another caller's job
		{"alice", "ffffffffffffffffffffffffffffffff"}, // unknown
		{"alice", "../../etc/passwd"},                 // not an id at all
		{"alice", "0123456789ABCDEF0123456789ABCDEF"}, // upper case is not our format
	} {
		if _, err := r.Get(context.Background(), tt.owner, tt.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v; want ErrNotFound", tt.owner, tt.id, err)
		}
	}
}

func TestReaderRecordsTimedOut(t *testing.T) {
	job := pendingJob()
	job.Deadline = t0
	store := newMemStore(job)
	r := Reader{Jobs: store, Now: func() time.Time { return t0.Add(time.Second) }}
	got, err := r.Get(context.Background(), "alice", jobID)
	if err != nil || got.Status != StatusTimedOut {
		t.Fatalf("Get past deadline = %+v, %v; want TIMED_OUT", got, err)
	}
	if stored, _ := store.Get(context.Background(), jobID); stored.Status != StatusTimedOut {
		t.Errorf("stored status = %s; want TIMED_OUT recorded, so the worker agrees", stored.Status)
	}
}
