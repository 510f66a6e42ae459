package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// JobCreator stores a new job.
type JobCreator interface {
	// Create stores job unless a job with its id exists; then it returns ErrConflict.
	Create(ctx context.Context, job Job) error
	// Get reads a job, to tell a retried submission from a reused key.
	Get(ctx context.Context, id string) (Job, error)
}

// TaskSender queues a job for a worker.
type TaskSender interface {
	Send(ctx context.Context, task Task) error
}

// Submitter accepts jobs: it records each one and queues it.
type Submitter struct {
	Jobs  JobCreator
	Queue TaskSender
	// Deadline is how long a job may take before it counts as TIMED_OUT.
	Deadline time.Duration
	// Retention is how long the job record is kept (its TTL), counted from submission.
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Metrics counts the jobs submitted; nil records nothing.
	Metrics Metrics
}

// Submit records a PENDING job owned by owner and queues it. The two calls run concurrently: the
// caller is waiting, and neither needs the other's answer. idempotencyKey may be empty; when set,
// the job id is derived from it, so a retry of a submission that failed part-way reuses the job
// already written instead of creating a second one (the worker absorbs a second message).
func (s Submitter) Submit(ctx context.Context, owner string, in Input, idempotencyKey, correlationID string) (Job, error) {
	if err := in.Validate(); err != nil {
		return Job{}, err
	}
	id := NewID()
	if idempotencyKey != "" {
		id = IDForRequest(owner, idempotencyKey)
	}
	now := clock.Now(s.Now).UTC()
	job := Job{
		ID:            id,
		Owner:         owner,
		Status:        StatusPending,
		Input:         in,
		CorrelationID: correlationID,
		CreatedAt:     now,
		Deadline:      now.Add(s.Deadline),
		ExpiresAt:     now.Add(s.Retention).Unix(),
	}

	var createErr, sendErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		createErr = s.Jobs.Create(ctx, job)
		if errors.Is(createErr, ErrConflict) && idempotencyKey != "" {
			// A retry of a submission that got as far as writing the record: the job is already
			// there. Unless the key was reused for other input once its idempotency record had
			// expired: then the stored job is not this request's, and saying so beats answering
			// with somebody else's result.
			var existing Job
			existing, createErr = s.Jobs.Get(ctx, id)
			if createErr == nil && (existing.Owner != owner || existing.Input != in) {
				createErr = ErrKeyReused
			}
			if createErr == nil {
				job = existing
			}
		}
	}()
	go func() {
		defer wg.Done()
		sendErr = s.Queue.Send(ctx, Task{JobID: id})
	}()
	wg.Wait()

	if err := errors.Join(createErr, sendErr); err != nil {
		// If only the send failed, the record stays PENDING and turns TIMED_OUT at its deadline; a retry
		// with the same Idempotency-Key finishes the submission. If only the write failed, the worker
		// finds no job, retries, and the message ends in the dead-letter queue (and its alarm).
		return Job{}, fmt.Errorf("submit job %s: %w", id, err)
	}
	count(s.Metrics, MetricSubmitted)
	return job, nil
}
