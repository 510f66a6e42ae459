package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// BatchReader is the part of the store the polling endpoint uses.
type BatchReader interface {
	Get(ctx context.Context, id string) (Batch, error)
	FailInterrupted(ctx context.Context, id string, failure Failure, now time.Time) error
	FailExpired(ctx context.Context, id string, failure Failure, now time.Time) error
}

// Reader answers "where is my batch?", and is where a batch that can no longer finish is marked so.
type Reader struct {
	Batches BatchReader
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Get returns the batch with id if owner owns it, and ErrNotFound otherwise: another caller's batch
// is indistinguishable from one that does not exist. A batch that cannot finish any more (its
// fan-out was interrupted and not resumed, or it is past its deadline) is recorded FAILED first,
// with a conditional write, so the workers and the sink agree with what the caller is told.
func (r Reader) Get(ctx context.Context, owner, id string) (Batch, error) {
	if !validID(id) {
		return Batch{}, ErrNotFound
	}
	b, err := r.Batches.Get(ctx, id)
	if err != nil {
		return Batch{}, err
	}
	if b.Owner != owner {
		return Batch{}, ErrNotFound
	}
	now := clock.Now(r.Now)
	switch {
	case b.PublishInterrupted(now):
		err = r.Batches.FailInterrupted(ctx, id, Failure{
			Reason: "fan-out interrupted",
			Detail: fmt.Sprintf("only %d of %d subtasks were confirmed sent before the submission stopped; submit again", b.Published, b.Total),
		}, now)
	case b.PastDeadline(now):
		err = r.Batches.FailExpired(ctx, id, Failure{
			Reason: "deadline passed",
			Detail: fmt.Sprintf("%d of %d subtasks were finished by the batch's deadline", b.Completed+b.Failed, b.Total),
		}, now)
	default:
		return b, nil
	}
	if err != nil && !errors.Is(err, ErrConflict) {
		return Batch{}, err
	}
	// Read again: FAILED, or whatever a worker or the sink wrote if it got there first.
	return r.Batches.Get(ctx, id)
}
