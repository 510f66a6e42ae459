package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// BatchCreator is the part of the store the ventilator uses.
type BatchCreator interface {
	// Create stores a new batch; ErrConflict if its id exists.
	Create(ctx context.Context, b Batch) error
	Get(ctx context.Context, id string) (Batch, error)
	// Resume moves an unfinished fan-out's PublishBy and Deadline; ErrConflict unless the batch
	// is RUNNING.
	Resume(ctx context.Context, id string, publishBy, deadline time.Time) error
	// Advance moves the fan-out cursor forward.
	Advance(ctx context.Context, id string, published int) error
}

// TaskSender sends up to SendBatchSize subtasks in one call, retrying only the entries that failed.
type TaskSender interface {
	SendBatch(ctx context.Context, tasks []Subtask) error
}

// Submitter is the ventilator: it records a batch, then fans its items out to the workers' queue.
type Submitter struct {
	Batches BatchCreator
	Queue   TaskSender
	// Wave is how many SendMessageBatch calls run at once; the cursor is advanced after each wave.
	// Zero means 10 (100 messages per wave).
	Wave int
	// PublishWithin is how long a fan-out may take before it counts as interrupted; set it above
	// the submitting function's Timeout, so a fan-out is never declared dead while it still runs.
	PublishWithin time.Duration
	// Deadline is how long a batch may take in all before it is FAILED: Sizing.Deadline, so that a
	// batch ends FAILED "deadline passed" only once every retry its queues allow is spent.
	Deadline time.Duration
	// Retention is how long the batch record is kept (its TTL).
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Submit records the batch (RUNNING, remaining = total, published = 0) before anything is sent,
// then sends its subtasks in waves of concurrent SendMessageBatch calls, recording after each wave
// how far it got.
//
// A submission that dies part-way (timeout, crash, SQS outage) resumes when retried with the same
// idempotencyKey: the batch id is derived from it, the record is found, and sending starts again
// at the cursor. The messages of a wave that was cut short may then be sent twice; the workers
// count each item once whatever the deliveries. Without a key, or without a retry, the batch is
// marked FAILED ("fan-out interrupted") once PublishWithin has passed (see Reader).
func (s Submitter) Submit(ctx context.Context, owner string, in Input, idempotencyKey, correlationID string) (Batch, error) {
	if err := in.Validate(); err != nil {
		return Batch{}, err
	}
	id := NewID()
	if idempotencyKey != "" {
		id = IDForRequest(owner, idempotencyKey)
	}
	now := clock.Now(s.Now).UTC()
	b := Batch{
		ID:            id,
		Owner:         owner,
		Status:        StatusRunning,
		Total:         len(in.Items),
		Remaining:     len(in.Items),
		PublishBy:     now.Add(s.PublishWithin),
		Deadline:      now.Add(s.Deadline),
		Fingerprint:   in.Fingerprint(),
		CorrelationID: correlationID,
		StartedAt:     now,
		ExpiresAt:     now.Add(s.Retention).Unix(),
	}
	err := s.Batches.Create(ctx, b)
	if errors.Is(err, ErrConflict) && idempotencyKey != "" {
		b, err = s.resume(ctx, owner, in, id, now)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("record batch %s: %w", id, err)
	}
	if b.Status != StatusRunning || b.Published >= b.Total {
		return b, nil // a retry of a submission that completed: nothing left to send
	}
	if err := s.publish(ctx, b, in.Items); err != nil {
		return Batch{}, fmt.Errorf("fan out batch %s: %w", id, err)
	}
	return b, nil
}

// resume finds the batch a retried request created and claims what is left of its fan-out.
func (s Submitter) resume(ctx context.Context, owner string, in Input, id string, now time.Time) (Batch, error) {
	b, err := s.Batches.Get(ctx, id)
	if err != nil {
		return Batch{}, err
	}
	if b.Owner != owner || b.Fingerprint != in.Fingerprint() {
		return Batch{}, ErrFingerprintMismatch
	}
	if b.Status != StatusRunning || b.Published >= b.Total {
		return b, nil
	}
	// The resumed fan-out sends its last subtasks as late as now + PublishWithin, and their retries
	// start then: the deadline moves with the window, or those subtasks would not get them all.
	err = s.Batches.Resume(ctx, id, now.Add(s.PublishWithin), now.Add(s.Deadline))
	if errors.Is(err, ErrConflict) {
		return s.Batches.Get(ctx, id) // marked FAILED meanwhile: answer with what it is
	}
	return b, err
}

// publish sends items[b.Published:] and advances the cursor after each wave.
func (s Submitter) publish(ctx context.Context, b Batch, items []Item) error {
	wave := s.Wave
	if wave <= 0 {
		wave = 10
	}
	perWave := wave * SendBatchSize
	for start := b.Published; start < len(items); start += perWave {
		end := min(start+perWave, len(items))
		var wg sync.WaitGroup
		errs := make([]error, 0, wave)
		var mu sync.Mutex
		for from := start; from < end; from += SendBatchSize {
			chunk := items[from:min(from+SendBatchSize, end)]
			tasks := make([]Subtask, len(chunk))
			for i, item := range chunk {
				tasks[i] = Subtask{BatchID: b.ID, Item: item}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Queue.SendBatch(ctx, tasks); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("items %d to %d: %w", start, end-1, err)
		}
		if err := s.Batches.Advance(ctx, b.ID, end); err != nil {
			return err
		}
	}
	return nil
}
