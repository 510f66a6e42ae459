package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// ResultRecorder is the part of the store workers use.
type ResultRecorder interface {
	// Record stores a subtask's result and counts it once; see DynamoStore.Record.
	Record(ctx context.Context, batchID string, r SubtaskResult) (last bool, err error)
	Get(ctx context.Context, id string) (Batch, error)
}

// SinkSender asks the sink to aggregate a batch. The sink is idempotent, so a second request for
// the same batch changes nothing.
type SinkSender interface {
	Send(ctx context.Context, batchID string) error
}

// Joiner records subtask outcomes and triggers the sink when the batch is complete. Workers (for a
// subtask that succeeded) and the dead-letter recorder (for one that exhausted its retries) share it.
type Joiner struct {
	Results ResultRecorder
	Sink    SinkSender
	Now     func() time.Time
	Log     *slog.Logger
}

// Join records r for the batch and, when r completed the batch, sends the batch to the sink.
//
// The message that carried r must be acknowledged only after Join returns nil: that is what makes
// the sink trigger impossible to lose. If the process dies between the transaction and the send,
// the message comes back, its result is found already recorded (ErrDuplicate), and Join looks at
// the batch: one that is AGGREGATING is sent to the sink again (the sink ignores a batch it has
// already finished). Two workers finishing at the same instant cannot both see last == true: the
// transaction that takes remaining from 1 to 0 is one, and its condition lets only one commit.
func (j Joiner) Join(ctx context.Context, batchID string, r SubtaskResult) error {
	last, err := j.Results.Record(ctx, batchID, r)
	switch {
	case err == nil && last:
		j.Log.InfoContext(ctx, "last subtask recorded; triggering the sink", "batchId", batchID, "itemId", r.ItemID)
		return j.Sink.Send(ctx, batchID)
	case err == nil:
		j.Log.DebugContext(ctx, "subtask recorded", "batchId", batchID, "itemId", r.ItemID, "status", r.Status)
		return nil
	case errors.Is(err, ErrBatchClosed):
		j.Log.InfoContext(ctx, "batch no longer running; subtask result dropped", "batchId", batchID, "itemId", r.ItemID)
		return nil
	case errors.Is(err, ErrDuplicate):
		return j.afterDuplicate(ctx, batchID, r.ItemID)
	default:
		return err
	}
}

// afterDuplicate handles a subtask recorded before: it counted already, but the delivery that
// recorded it may have died before triggering the sink.
func (j Joiner) afterDuplicate(ctx context.Context, batchID, itemID string) error {
	b, err := j.Results.Get(ctx, batchID)
	if err != nil {
		return fmt.Errorf("read batch %s after a duplicate subtask: %w", batchID, err)
	}
	if b.Status != StatusAggregating {
		j.Log.InfoContext(ctx, "duplicate subtask ignored", "batchId", batchID, "itemId", itemID, "status", b.Status)
		return nil
	}
	j.Log.InfoContext(ctx, "duplicate subtask of a batch being aggregated; triggering the sink again", "batchId", batchID, "itemId", itemID)
	return j.Sink.Send(ctx, batchID)
}

// How ProcessSubtaskFunction is sized. Its invocation works the records of a batch one after
// another, so a full batch of the longest items, plus the margin, must fit in its Timeout:
// 10 × 5 s + 2 s = 52 s ≤ 60 s, the rest being room for the ten result writes. A batch that does
// not fit has its last records interrupted or handed back, and every such delivery counts toward
// the queue's maxReceiveCount (3): healthy items would end in the dead-letter queue, FAILED.
// template.yaml holds the same Timeout and BatchSize; a test checks that they agree.
const (
	// WorkerTimeout is ProcessSubtaskFunction's Timeout.
	WorkerTimeout = 60 * time.Second
	// WorkerBatchSize is the BatchSize of ProcessSubtaskFunction's event source.
	WorkerBatchSize = 10
	// WorkerMargin is kept before the deadline to record the item in hand and answer.
	WorkerMargin = 2 * time.Second
)

// ErrNoTimeForItem means a subtask was handed back unstarted: the invocation had not time enough
// left for its work. The message comes back in a later invocation. It wraps sqsbatch.ErrRetryLater,
// so the hand-back is logged as a warning, with its reason, and never as a failure.
var ErrNoTimeForItem = fmt.Errorf("not enough time left in this invocation to start the item: %w", sqsbatch.ErrRetryLater)

// Worker processes subtasks from the workers' queue.
type Worker struct {
	Joiner Joiner
	// Work does an item's work (Simulate in this service).
	Work func(ctx context.Context, item Item) (string, error)
	// Budget keeps a margin before the invocation's deadline for recording the result.
	Budget budget.Budget
	Now    func() time.Time
}

// Process runs the subtask's work and records its result. An error means the message should be
// delivered again: the work failed (after maxReceiveCount receives the queue moves the message to
// the dead-letter queue, whose consumer records the subtask FAILED), or recording it did.
//
// An item whose declared duration does not fit in what is left of the budget is not started: it
// fails with ErrNoTimeForItem and comes back whole in a later invocation, instead of being cut off
// half-way. Either way the delivery counts toward maxReceiveCount, which is why the sizing above
// lets a full batch of the longest items fit.
//
// The work itself runs at least once: a redelivered subtask runs again and then finds its result
// recorded. Real work should be idempotent, or claimed per item as services/jobs claims its runs.
func (w Worker) Process(ctx context.Context, task Subtask) error {
	if !validID(task.BatchID) || !validItemID(task.Item.ID) {
		return fmt.Errorf("subtask names no valid batch and item: %+v", task)
	}
	if d := time.Duration(task.Item.DurationMS) * time.Millisecond; !w.Budget.Fits(ctx, d) {
		return fmt.Errorf("item %s of batch %s takes %s, %s left: %w",
			task.Item.ID, task.BatchID, d, w.Budget.Remaining(ctx).Round(time.Millisecond), ErrNoTimeForItem)
	}
	workCtx, cancel := w.Budget.Context(ctx, MaxItemDuration)
	output, err := w.Work(workCtx, task.Item)
	cancel()
	if err != nil {
		return fmt.Errorf("work on item %s of batch %s: %w", task.Item.ID, task.BatchID, err)
	}
	return w.Joiner.Join(ctx, task.BatchID, SubtaskResult{
		ItemID:     task.Item.ID,
		Status:     SubtaskDone,
		Output:     output,
		DurationMS: task.Item.DurationMS,
		FinishedAt: w.Now().UTC(),
	})
}

// FailureRecorder consumes the workers' dead-letter queue: each message there is a subtask that
// failed every attempt. It records the subtask FAILED with the same exactly-once transaction, so
// the batch still completes (COMPLETED_WITH_ERRORS) instead of waiting for ever.
type FailureRecorder struct {
	Joiner Joiner
	// MaxAttempts is the workers' queue's maxReceiveCount, for the failure's wording.
	MaxAttempts int
	Now         func() time.Time
}

// Record records the subtask as failed.
func (f FailureRecorder) Record(ctx context.Context, task Subtask) error {
	if !validID(task.BatchID) || !validItemID(task.Item.ID) {
		return fmt.Errorf("dead-lettered subtask names no valid batch and item: %+v", task)
	}
	return f.Joiner.Join(ctx, task.BatchID, SubtaskResult{
		ItemID:     task.Item.ID,
		Status:     SubtaskFailed,
		Reason:     fmt.Sprintf("retries exhausted: the work failed on each of its %d attempts", f.MaxAttempts),
		FinishedAt: f.Now().UTC(),
	})
}

// ErrItemFailed is the simulated work failing, as an item with fail: true does on every attempt.
var ErrItemFailed = errors.New("the item's work failed")

// Simulate is the work: it waits the item's DurationMS (or until ctx ends) and fails when the item
// asks it to. A real service replaces this function; everything around it stays as it is.
func Simulate(ctx context.Context, item Item) (string, error) {
	timer := time.NewTimer(time.Duration(item.DurationMS) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return "", fmt.Errorf("work on %s interrupted: %w", item.ID, context.Cause(ctx))
	}
	if item.Fail {
		return "", fmt.Errorf("%w: %s", ErrItemFailed, item.ID)
	}
	return "processed " + item.ID, nil
}
