package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/invalid"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func newSubmitter(store *memStore, queue *fakeQueue) Submitter {
	return Submitter{Jobs: store, Queue: queue, Deadline: 15 * time.Minute, Retention: 7 * 24 * time.Hour, Now: func() time.Time { return t0 }}
}

func TestSubmitRecordsAndQueues(t *testing.T) {
	store, queue := newMemStore(), &fakeQueue{}
	job, err := newSubmitter(store, queue).Submit(context.Background(), "alice", Input{Task: "resize", DurationMS: 10}, "", "corr-1")
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	stored, err := store.Get(context.Background(), job.ID)
	if err != nil {
		t.Fatalf("job not stored: %v", err)
	}
	if stored.Status != StatusPending || stored.Owner != "alice" || stored.CorrelationID != "corr-1" {
		t.Errorf("stored job = %+v; want PENDING, owner alice, correlation corr-1", stored)
	}
	if !stored.Deadline.Equal(t0.Add(15*time.Minute)) || stored.ExpiresAt != t0.Add(7*24*time.Hour).Unix() {
		t.Errorf("deadline %v, expiresAt %d; want submission + 15m and + 7d", stored.Deadline, stored.ExpiresAt)
	}
	if len(queue.sent) != 1 || queue.sent[0].JobID != job.ID {
		t.Errorf("queued %+v; want one task for %s", queue.sent, job.ID)
	}
}

func TestSubmitRejectsInvalidInputWithoutWriting(t *testing.T) {
	store, queue := newMemStore(), &fakeQueue{}
	_, err := newSubmitter(store, queue).Submit(context.Background(), "alice", Input{}, "", "")
	if _, ok := errors.AsType[*invalid.Param](err); !ok {
		t.Fatalf("Submit(empty input) = %v; want an *invalid.Param", err)
	}
	if len(store.jobs) != 0 || len(queue.sent) != 0 {
		t.Errorf("wrote %d jobs and queued %d tasks for invalid input; want none", len(store.jobs), len(queue.sent))
	}
}

func TestSubmitWithKeyConvergesAfterPartialFailure(t *testing.T) {
	store, queue := newMemStore(), &fakeQueue{err: errors.New("sqs unavailable")}
	s := newSubmitter(store, queue)
	in := Input{Task: "resize"}

	// First attempt: the record is written, the message is not.
	if _, err := s.Submit(context.Background(), "alice", in, "key-1", ""); err == nil {
		t.Fatal("Submit with failing queue succeeded; want error")
	}
	if len(store.jobs) != 1 {
		t.Fatalf("after a failed send, %d records; want the 1 written concurrently", len(store.jobs))
	}

	// Retry with the same key: same job id, the existing record is accepted, the message goes out.
	queue.err = nil
	job, err := s.Submit(context.Background(), "alice", in, "key-1", "")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if job.ID != IDForRequest("alice", "key-1") || len(store.jobs) != 1 {
		t.Errorf("retry made job %s with %d records; want the derived id and still 1 record", job.ID, len(store.jobs))
	}
	if len(queue.sent) != 1 || queue.sent[0].JobID != job.ID {
		t.Errorf("queued %+v; want one task for %s", queue.sent, job.ID)
	}
}

func TestSubmitWithoutKeyReportsExistingIDAsError(t *testing.T) {
	store, queue := newMemStore(), &fakeQueue{}
	store.failCreate = ErrConflict // a random id collided: must not be mistaken for a retry
	if _, err := newSubmitter(store, queue).Submit(context.Background(), "alice", Input{Task: "t"}, "", ""); !errors.Is(err, ErrConflict) {
		t.Errorf("Submit with colliding random id = %v; want ErrConflict", err)
	}
}

func TestSubmitReportsWriteFailure(t *testing.T) {
	store, queue := newMemStore(), &fakeQueue{}
	store.failCreate = errors.New("throttled")
	if _, err := newSubmitter(store, queue).Submit(context.Background(), "alice", Input{Task: "t"}, "", ""); err == nil {
		t.Error("Submit with failing store succeeded; want error")
	}
}

func TestSubmitWithReusedKey(t *testing.T) {
	in := Input{Task: "resize", Outcome: OutcomeSucceed}
	done := Job{ID: IDForRequest("alice", "key-1"), Owner: "alice", Status: StatusSucceeded, Input: in}
	tests := []struct {
		name    string
		in      Input
		wantErr error
	}{
		// The key's idempotency record expired, the job it made did not: same input is the same job...
		{name: "same input", in: in},
		// ...other input under the same key is refused, not answered with the old job.
		{name: "other input", in: Input{Task: "refund", Outcome: OutcomeSucceed}, wantErr: ErrKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore(done)
			job, err := newSubmitter(store, &fakeQueue{}).Submit(context.Background(), "alice", tt.in, "key-1", "")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Submit = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (job.ID != done.ID || job.Status != StatusSucceeded) {
				t.Errorf("Submit returned %+v; want the stored job as it is (SUCCEEDED)", job)
			}
		})
	}
}
