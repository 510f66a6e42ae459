package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// JobRunner is the part of the job store a worker uses. Each method is a conditional write that
// returns ErrConflict when the job is not in a status the change may start from.
type JobRunner interface {
	Get(ctx context.Context, id string) (Job, error)
	// Start moves a PENDING or RUNNING job to RUNNING and counts the attempt.
	Start(ctx context.Context, id string, now time.Time) (Job, error)
	// Finish moves a RUNNING job to SUCCEEDED or FAILED.
	Finish(ctx context.Context, id string, status Status, result *Result, failure *Failure, now time.Time) error
	// TimeOut moves a job that is not done and past its deadline to TIMED_OUT.
	TimeOut(ctx context.Context, id string, now time.Time) error
}

// RunClaims makes a job's run happen once however often its message is delivered; *idempotency.Store
// satisfies it. Do runs fn unless a run of the same key completed (it then returns the stored result
// without running fn) or is in progress (it returns an error wrapping idempotency.ErrInProgress).
type RunClaims interface {
	Do(ctx context.Context, key, fingerprint string, inProgressFor time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error)
}

// Processor is the worker's logic: it runs the job a task names, once.
type Processor struct {
	Jobs JobRunner
	Runs RunClaims
	// Work does the job's actual work (Simulate in this service).
	Work func(ctx context.Context, in Input) (Result, error)
	// MaxAttempts is the queue's maxReceiveCount: the attempt that fails with this number is the
	// last before SQS moves the message to the dead-letter queue, so it marks the job FAILED.
	MaxAttempts int
	// Budget keeps a margin before the invocation's deadline: work still running then is
	// interrupted, so the failure is recorded and the message released instead of the whole
	// invocation being killed mid-write.
	Budget budget.Budget
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts the jobs finished, by status; nil records nothing.
	Metrics Metrics
}

// Process runs the job named by task; attempt is the message's receive count (1 on first delivery).
// It returns nil when the message is finished with (the job is done, now or earlier) and an error
// when the message should be delivered again: a transient failure, or a run of the same job in
// progress elsewhere (a duplicate delivery while the first is still running). The latter is not a
// fault: its error wraps sqsbatch.ErrRetryLater, so it is logged as a hand-back at WARN.
func (p Processor) Process(ctx context.Context, task Task, attempt int) error {
	if task.JobID == "" {
		return errors.New("task names no job")
	}
	// The claim is keyed by job, not by message id: a duplicated send is a new message for the same job.
	// It lasts as long as this invocation can: if the worker is killed, the claim lapses when the
	// message becomes visible again, and the next delivery takes the job over.
	_, err := p.Runs.Do(ctx, "run/"+task.JobID, "", claimFor(ctx, clock.Now(p.Now)), func(ctx context.Context) ([]byte, error) {
		return nil, p.run(ctx, task.JobID, attempt)
	})
	if errors.Is(err, idempotency.ErrInProgress) {
		return fmt.Errorf("job %s is being run by another delivery (attempt %d): %w: %w", task.JobID, attempt, err, sqsbatch.ErrRetryLater)
	}
	if err != nil {
		return fmt.Errorf("run job %s (attempt %d): %w", task.JobID, attempt, err)
	}
	return nil
}

func (p Processor) run(ctx context.Context, id string, attempt int) error {
	job, err := p.getSoon(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("job %s has no record yet: %w", id, err)
	}
	if err != nil {
		return err
	}
	if job.Status.Done() {
		p.Log.InfoContext(ctx, "job already finished, nothing to do", "jobId", id, "status", job.Status)
		return nil
	}
	if now := clock.Now(p.Now); job.PastDeadline(now) {
		return p.finished(MetricTimedOut, p.Jobs.TimeOut(ctx, id, now))
	}

	job, err = p.Jobs.Start(ctx, id, clock.Now(p.Now))
	if errors.Is(err, ErrConflict) {
		return nil // finished or timed out between our read and this write
	}
	if err != nil {
		return err
	}
	p.Log.InfoContext(ctx, "job started", "jobId", id, "attempt", attempt, "task", job.Input.Task)

	workCtx, cancel := p.Budget.Context(ctx, MaxDuration)
	result, workErr := p.Work(workCtx, job.Input)
	cancel()
	switch {
	case workErr == nil:
		p.Log.InfoContext(ctx, "job succeeded", "jobId", id)
		return p.finished(MetricSucceeded, p.Jobs.Finish(ctx, id, StatusSucceeded, &result, nil, clock.Now(p.Now)))
	case errors.Is(workErr, budget.ErrBudgetExhausted):
		// The invocation ran out of time, not the job out of chances: never FAILED for that. The
		// message comes back; if it never fits, the job ends TIMED_OUT at its deadline.
		return workErr
	case errors.Is(workErr, ErrTaskFailed):
		p.Log.InfoContext(ctx, "job failed", "jobId", id, "error", workErr)
		failure := &Failure{Reason: "task failed", Detail: workErr.Error()}
		return p.finished(MetricFailed, p.Jobs.Finish(ctx, id, StatusFailed, nil, failure, clock.Now(p.Now)))
	case attempt >= p.MaxAttempts:
		// Mark the job before the message goes to the dead-letter queue, so its owner sees FAILED
		// instead of waiting for the deadline. The error is returned so that the message does go there.
		failure := &Failure{Reason: "retries exhausted", Detail: fmt.Sprintf("the job failed on each of its %d attempts", attempt)}
		if err := p.finished(MetricFailed, p.Jobs.Finish(ctx, id, StatusFailed, nil, failure, clock.Now(p.Now))); err != nil {
			return errors.Join(workErr, err)
		}
		return workErr
	default:
		return workErr
	}
}

// getSoon reads a job, looking again a few times within a second when it is not there: the
// submitter writes the record concurrently with sending the message, so a fast worker can get the
// message first. Without this, the message would come back only after its visibility timeout.
func (p Processor) getSoon(ctx context.Context, id string) (Job, error) {
	wait := 100 * time.Millisecond
	for {
		job, err := p.Jobs.Get(ctx, id)
		if !errors.Is(err, ErrNotFound) || wait > 400*time.Millisecond || !p.Budget.Fits(ctx, wait) {
			return job, err
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return Job{}, err
		}
		wait *= 2
	}
}

// finished counts metric when the write err of a final status succeeded (not when another writer
// got there first: that writer counted it) and returns err as ignoreConflict does.
func (p Processor) finished(metric string, err error) error {
	if err == nil {
		count(p.Metrics, metric)
	}
	return ignoreConflict(err)
}

// ignoreConflict treats a lost conditional write as done: another writer already moved the job on.
func ignoreConflict(err error) error {
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}

// claimFor is how long a run's claim lasts: the invocation's remaining time, or five minutes
// outside Lambda.
func claimFor(ctx context.Context, now time.Time) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return deadline.Sub(now)
	}
	return 5 * time.Minute
}
