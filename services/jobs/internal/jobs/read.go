package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// JobReader is the part of the job store the polling endpoint uses.
type JobReader interface {
	Get(ctx context.Context, id string) (Job, error)
	TimeOut(ctx context.Context, id string, now time.Time) error
}

// Reader answers "where is my job?".
type Reader struct {
	Jobs JobReader
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Metrics counts the jobs this reader times out; nil records nothing.
	Metrics Metrics
}

// Get returns the job with id if owner owns it, and ErrNotFound otherwise: another caller's job
// is indistinguishable from one that does not exist. A job past its deadline is recorded as
// TIMED_OUT first, so every later reader and the worker agree on it.
func (r Reader) Get(ctx context.Context, owner, id string) (Job, error) {
	if !validID(id) {
		return Job{}, ErrNotFound
	}
	job, err := r.Jobs.Get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if job.Owner != owner {
		return Job{}, ErrNotFound
	}
	if now := clock.Now(r.Now); job.PastDeadline(now) {
		err := r.Jobs.TimeOut(ctx, id, now)
		if err != nil && !errors.Is(err, ErrConflict) {
			return Job{}, err
		}
		if err == nil {
			count(r.Metrics, MetricTimedOut)
		}
		// Read again: TIMED_OUT, or whatever the worker wrote if it got there first.
		return r.Jobs.Get(ctx, id)
	}
	return job, nil
}

// validID reports whether id has the shape of a job id (32 lower-case hex characters), so a
// malformed id is answered 404 without a read.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
