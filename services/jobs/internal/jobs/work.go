package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTaskFailed is a business failure: the task itself cannot succeed, so it is not retried.
var ErrTaskFailed = errors.New("the task failed")

// errDownstream stands for an outage downstream: worth retrying, and retried until the queue gives up.
var errDownstream = errors.New("downstream service unavailable")

// Simulate is the slow work: it waits DurationMS (or until ctx ends) and ends as in.Outcome asks.
// A real service replaces this function; everything around it stays as it is.
func Simulate(ctx context.Context, in Input) (Result, error) {
	d := time.Duration(in.DurationMS) * time.Millisecond
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("work on %q interrupted: %w", in.Task, context.Cause(ctx))
	}
	switch in.Outcome {
	case OutcomeFail:
		return Result{}, fmt.Errorf("%w: %q cannot be processed", ErrTaskFailed, in.Task)
	case OutcomePoison:
		return Result{}, fmt.Errorf("process %q: %w", in.Task, errDownstream)
	}
	return Result{Output: fmt.Sprintf("processed %s", in.Task), DurationMS: in.DurationMS}, nil
}
