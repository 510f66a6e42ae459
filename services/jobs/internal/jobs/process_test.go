package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

const jobID = "0123456789abcdef0123456789abcdef"

func pendingJob() Job {
	return Job{ID: jobID, Owner: "alice", Status: StatusPending, Input: Input{Task: "resize", Outcome: OutcomeSucceed}, CreatedAt: t0, Deadline: t0.Add(time.Hour)}
}

type processorFixture struct {
	store  *memStore
	claims *memClaims
	calls  atomic.Int32
	p      Processor
}

func newProcessor(t *testing.T, job Job, work func(context.Context, Input) (Result, error)) *processorFixture {
	t.Helper()
	f := &processorFixture{store: newMemStore(job), claims: newMemClaims()}
	f.p = Processor{
		Jobs: f.store,
		Runs: f.claims,
		Work: func(ctx context.Context, in Input) (Result, error) {
			f.calls.Add(1)
			return work(ctx, in)
		},
		MaxAttempts: 3,
		Now:         func() time.Time { return t0.Add(time.Minute) },
		Log:         slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	}
	return f
}

func succeed(context.Context, Input) (Result, error) { return Result{Output: "ok"}, nil }

func (f *processorFixture) job(t *testing.T) Job {
	t.Helper()
	job, err := f.store.Get(context.Background(), jobID)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestProcessSucceeds(t *testing.T) {
	f := newProcessor(t, pendingJob(), succeed)
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process: %v", err)
	}
	job := f.job(t)
	if job.Status != StatusSucceeded || job.Result == nil || job.Result.Output != "ok" || job.Attempts != 1 {
		t.Errorf("job = %+v; want SUCCEEDED with result after 1 attempt", job)
	}
}

func TestProcessRedeliveryRunsOnce(t *testing.T) {
	f := newProcessor(t, pendingJob(), succeed)
	for attempt := 1; attempt <= 3; attempt++ {
		if err := f.p.Process(context.Background(), Task{JobID: jobID}, attempt); err != nil {
			t.Fatalf("delivery %d: %v", attempt, err)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("work ran %d times for 3 deliveries; want 1", n)
	}
}

func TestProcessDuplicateWhileRunningIsRetriedLater(t *testing.T) {
	var f *processorFixture
	var duplicateErr error
	f = newProcessor(t, pendingJob(), func(ctx context.Context, in Input) (Result, error) {
		// A second delivery of the same job arrives while the first is running.
		duplicateErr = f.p.Process(ctx, Task{JobID: jobID}, 1)
		return Result{Output: "ok"}, nil
	})
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if !errors.Is(duplicateErr, idempotency.ErrInProgress) {
		t.Errorf("duplicate delivery = %v; want the in-progress error so the message is retried", duplicateErr)
	}
	// Handed back on purpose, not failed: sqsbatch logs it at WARN, so ERROR keeps meaning a fault.
	if !errors.Is(duplicateErr, sqsbatch.ErrRetryLater) {
		t.Errorf("duplicate delivery = %v; want it to wrap sqsbatch.ErrRetryLater (a hand-back, logged at WARN)", duplicateErr)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("work ran %d times; want 1", n)
	}
}

func TestProcessBusinessFailureIsFinal(t *testing.T) {
	f := newProcessor(t, pendingJob(), Simulate)
	job := pendingJob()
	job.Input.Outcome = OutcomeFail
	f.store.jobs[jobID] = job
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process = %v; want nil (a failed task is not retried)", err)
	}
	got := f.job(t)
	if got.Status != StatusFailed || got.Failure == nil || got.Failure.Reason != "task failed" {
		t.Errorf("job = %+v; want FAILED with reason task failed", got)
	}
}

func TestProcessTransientFailureRetriesThenFails(t *testing.T) {
	f := newProcessor(t, pendingJob(), func(context.Context, Input) (Result, error) {
		return Result{}, errors.New("downstream unavailable")
	})
	for attempt := 1; attempt <= 2; attempt++ {
		if err := f.p.Process(context.Background(), Task{JobID: jobID}, attempt); err == nil {
			t.Fatalf("attempt %d = nil; want error so the message is retried", attempt)
		}
		if got := f.job(t).Status; got != StatusRunning {
			t.Fatalf("after attempt %d status = %s; want RUNNING", attempt, got)
		}
	}
	// The last attempt before the dead-letter queue marks the job and still fails the message.
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 3); err == nil {
		t.Fatal("last attempt = nil; want error so the message goes to the dead-letter queue")
	}
	got := f.job(t)
	if got.Status != StatusFailed || got.Failure == nil || got.Failure.Reason != "retries exhausted" || got.Attempts != 3 {
		t.Errorf("job = %+v; want FAILED, retries exhausted, 3 attempts", got)
	}
	if strings.Contains(got.Failure.Detail, "downstream") {
		t.Errorf("failure detail %q leaks the internal error", got.Failure.Detail)
	}
}

func TestProcessWorkInterruptedBeforeDeadline(t *testing.T) {
	f := newProcessor(t, pendingJob(), Simulate)
	job := pendingJob()
	job.Input.DurationMS = 20000
	f.store.jobs[jobID] = job
	f.p.Budget = budget.Budget{Margin: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second+50*time.Millisecond)
	defer cancel()
	err := f.p.Process(ctx, Task{JobID: jobID}, 1)
	if !errors.Is(err, budget.ErrBudgetExhausted) {
		t.Fatalf("Process = %v; want the work interrupted by the budget", err)
	}
	if ctx.Err() != nil {
		t.Error("the invocation's own deadline passed; the budget margin should have ended the work first")
	}
}

func TestProcessSkipsFinishedJob(t *testing.T) {
	job := pendingJob()
	job.Status = StatusSucceeded
	f := newProcessor(t, job, succeed)
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process: %v", err)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("work ran %d times for a finished job; want 0", n)
	}
}

func TestProcessTimesOutJobPastDeadline(t *testing.T) {
	job := pendingJob()
	job.Deadline = t0
	f := newProcessor(t, job, succeed)
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process: %v", err)
	}
	if got := f.job(t).Status; got != StatusTimedOut || f.calls.Load() != 0 {
		t.Errorf("status %s, work ran %d times; want TIMED_OUT without running", got, f.calls.Load())
	}
}

func TestProcessLateResultDoesNotOverwriteTimedOut(t *testing.T) {
	f := newProcessor(t, pendingJob(), succeed)
	f.store.beforeFinish = func(s *memStore) {
		s.mu.Lock()
		defer s.mu.Unlock()
		j := s.jobs[jobID]
		j.Status = StatusTimedOut // the poller recorded TIMED_OUT while the work ran
		s.jobs[jobID] = j
	}
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process = %v; want nil (lost race is not an error)", err)
	}
	if got := f.job(t).Status; got != StatusTimedOut {
		t.Errorf("status = %s; want TIMED_OUT kept", got)
	}
}

func TestProcessUnknownJobIsRetried(t *testing.T) {
	f := newProcessor(t, pendingJob(), succeed)
	err := f.p.Process(context.Background(), Task{JobID: "ffffffffffffffffffffffffffffffff"}, 1)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Process(unknown job) = %v; want ErrNotFound so the message is retried", err)
	}
	if err := f.p.Process(context.Background(), Task{}, 1); err == nil {
		t.Error("Process(task without job id) = nil; want error")
	}
}

func TestProcessFindsRecordWrittenLate(t *testing.T) {
	f := newProcessor(t, pendingJob(), succeed)
	f.store.hiddenGets = 2 // the message beat the concurrently written record
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 1); err != nil {
		t.Fatalf("Process = %v; want the job found on a quick second look", err)
	}
	if got := f.job(t).Status; got != StatusSucceeded {
		t.Errorf("status = %s; want SUCCEEDED", got)
	}
}

func TestProcessBudgetInterruptionIsNeverFailed(t *testing.T) {
	f := newProcessor(t, pendingJob(), func(context.Context, Input) (Result, error) {
		return Result{}, fmt.Errorf("work interrupted: %w", budget.ErrBudgetExhausted)
	})
	// Even on the last attempt: the invocation ran out of time, the job did not fail.
	if err := f.p.Process(context.Background(), Task{JobID: jobID}, 3); !errors.Is(err, budget.ErrBudgetExhausted) {
		t.Fatalf("Process = %v; want the interruption returned so the message comes back", err)
	}
	if got := f.job(t).Status; got != StatusRunning {
		t.Errorf("status = %s; want RUNNING (TIMED_OUT at the deadline if it never fits), not FAILED", got)
	}
}
