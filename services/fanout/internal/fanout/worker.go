package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// ResultRecorder is the part of the store workers use.
type ResultRecorder interface {
	// Record stores a subtask's result and counts it once; see DynamoStore.Record.
	Record(ctx context.Context, batchID string, r SubtaskResult) (last bool, err error)
	// RecordAll stores several results of one batch together, or none (ErrRecordOneByOne); see
	// DynamoStore.RecordAll.
	RecordAll(ctx context.Context, batchID string, results []SubtaskResult) error
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
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts the results joined and the failed among them; nil records nothing.
	Metrics Metrics
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
	if err == nil {
		countJoined(j.Metrics, r)
	}
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

// JoinAll records several results of one batch in one transaction (DynamoStore.RecordAll). Such a
// group never finishes its batch, so there is no sink to trigger. ErrRecordOneByOne means nothing
// was recorded and each result must go through Join, which sorts out duplicates, the last subtask
// and a closed batch.
func (j Joiner) JoinAll(ctx context.Context, batchID string, results []SubtaskResult) error {
	if err := j.Results.RecordAll(ctx, batchID, results); err != nil {
		return err
	}
	countJoined(j.Metrics, results...)
	j.Log.DebugContext(ctx, "subtasks recorded together", "batchId", batchID, "count", len(results))
	return nil
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

// How ProcessSubtaskFunction is sized. An invocation works every record of its batch at once
// (WorkerConcurrency), then records their results, one transaction for a batch's results
// (Recording), so its Timeout holds the longest item and the recording, not the sum of the items:
//
//	  MaxItemDuration            5 s      the longest item; every record's work runs side by side
//	+ DefaultConflictPatience    5 s      the group's transaction, kept waiting by others on the batch record
//	+ budget.DefaultCallTimeout  2 s      its last attempt, slowed by the SDK's retries of a throttled write
//	+ 21 transactions of ~20 ms  0.42 s   a group that cannot be recorded together, one result at a time
//	+ WorkerMargin               2 s      to answer
//	= 14.42 s ≤ 15 s
//
// A batch that does not fit has records interrupted or handed back, and every such delivery counts
// toward the queue's maxReceiveCount (3): healthy items would end in the dead-letter queue, FAILED.
// template.yaml holds the same Timeout, BatchSize and MaximumConcurrency (and the queue's visibility
// timeout, 6 × the Timeout); tests check that they agree.
const (
	// WorkerTimeout is ProcessSubtaskFunction's Timeout.
	WorkerTimeout = 15 * time.Second
	// WorkerBatchSize is the BatchSize of ProcessSubtaskFunction's event source.
	WorkerBatchSize = 20
	// WorkerMaxConcurrency is the MaximumConcurrency of ProcessSubtaskFunction's event source: how
	// many invocations run at once, whatever the depth of the queue.
	WorkerMaxConcurrency = 5
	// WorkerMargin is kept before the deadline to record the item in hand and answer.
	WorkerMargin = 2 * time.Second

	// WorkerConcurrency is how many records of an invocation's batch are worked at once: all of
	// them. The work touches nothing shared, so running it side by side costs the batch record
	// nothing, and the Timeout holds one item, not twenty.
	WorkerConcurrency = WorkerBatchSize
	// WorkerRecordConcurrency is how many transactions an invocation has in flight to record its
	// results: one, which records all the results of a batch (Recording). Every result counts on
	// its batch's one record, and DynamoDB cancels a transaction that touches an item another
	// transaction holds, so what bounds the contention on that record is the transactions in flight
	// on it: WorkerMaxConcurrency × WorkerRecordConcurrency, five, as many as when records ran one
	// after another, each now carrying up to twenty results (services/fanout/README.md, the hot key).
	WorkerRecordConcurrency = 1
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
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Recording records the results of the records that run side by side together, once their
	// work is over (NewRecording, one per execution environment). Nil records each result on its
	// own as soon as its work is done.
	Recording *Recording
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
// Process is safe to call for several subtasks at once: the work runs side by side, and the
// results are recorded through Recording, together once no work is under way.
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
	handedOver := false // to Recording, which counts the work as over when it takes the result
	if w.Recording != nil {
		w.Recording.working(+1)
		defer func() {
			if !handedOver { // the work failed, or panicked
				w.Recording.working(-1)
			}
		}()
	}
	workCtx, cancel := w.Budget.Context(ctx, MaxItemDuration)
	output, err := w.Work(workCtx, task.Item)
	cancel()
	if err != nil {
		return fmt.Errorf("work on item %s of batch %s: %w", task.Item.ID, task.BatchID, err)
	}
	result := SubtaskResult{
		ItemID:     task.Item.ID,
		Status:     SubtaskDone,
		Output:     output,
		DurationMS: task.Item.DurationMS,
		FinishedAt: clock.Now(w.Now).UTC(),
	}
	if w.Recording == nil {
		return w.Joiner.Join(ctx, task.BatchID, result)
	}
	handedOver = true
	return w.Recording.record(ctx, w.Joiner, w.Budget, task.BatchID, result)
}

// Recording records the results of the records an execution environment works side by side once
// their work is over: one transaction per batch (Joiner.JoinAll) for all of its results, one
// transaction in flight at a time (WorkerRecordConcurrency). A full batch of items is one
// transaction on its batch record instead of twenty, which is what keeps that record's contention at
// five transactions in flight, one per invocation, however many records run side by side. Waiting
// for the slowest item costs nothing in acknowledgement: a message is deleted when its invocation
// ends, and the invocation ends after its slowest item anyway.
//
// A group that cannot be recorded together (a duplicate in it, the batch's last subtask, a closed
// batch) is recorded one result at a time, by the same exactly-once Join as always. Each result's
// outcome is its own, as with Join: its message is acknowledged only once its result is recorded
// (and, if it was the last, the sink triggered).
type Recording struct {
	slot chan struct{}

	mu      sync.Mutex
	busy    int           // records whose work is under way
	idle    chan struct{} // closed while busy is 0
	waiting map[string][]*pendingResult
}

// NewRecording returns the Recording of one execution environment: cmd/process-subtask makes one
// at cold start.
func NewRecording() *Recording {
	idle := make(chan struct{})
	close(idle)
	return &Recording{
		slot:    make(chan struct{}, WorkerRecordConcurrency),
		idle:    idle,
		waiting: map[string][]*pendingResult{},
	}
}

// pendingResult is a result waiting to be recorded, with the context of the record it belongs to
// (its correlation IDs) and where its outcome goes.
type pendingResult struct {
	ctx    context.Context
	result SubtaskResult
	done   chan error
}

// working adds delta to the records whose work is under way.
func (rec *Recording) working(delta int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.addBusy(delta)
}

// addBusy adds delta to busy and keeps idle in step; rec.mu must be held.
func (rec *Recording) addBusy(delta int) {
	if rec.busy == 0 && delta > 0 {
		rec.idle = make(chan struct{})
	}
	rec.busy += delta
	if rec.busy == 0 && delta < 0 {
		close(rec.idle)
	}
}

// record takes r, whose work is over, and returns its outcome once it is recorded: together with
// the other results of its batch once no work is left under way, or one at a time. It waits at
// most until b's margin, so a result that cannot be recorded in time fails (and its message is
// redelivered) while the invocation can still answer.
func (rec *Recording) record(ctx context.Context, j Joiner, b budget.Budget, batchID string, r SubtaskResult) error {
	p := &pendingResult{ctx: ctx, result: r, done: make(chan error, 1)}
	rec.mu.Lock()
	rec.waiting[batchID] = append(rec.waiting[batchID], p)
	rec.addBusy(-1)
	idle := rec.idle
	rec.mu.Unlock()

	// No invocation lasts longer than the Timeout; the budget usually ends the wait first.
	waitCtx, cancel := b.Context(ctx, WorkerTimeout)
	defer cancel()
	select {
	case <-idle:
	case <-waitCtx.Done():
		return rec.giveUp(waitCtx, batchID, p)
	}
	select {
	case err := <-p.done: // another record's transaction took it
		return err
	case rec.slot <- struct{}{}:
	case <-waitCtx.Done():
		return rec.giveUp(waitCtx, batchID, p)
	}
	// The group may not hold p: a transaction that ended before this one could start took it,
	// and its outcome is already in p.done.
	rec.flush(ctx, j, batchID, rec.take(batchID))
	<-rec.slot
	return <-p.done
}

// giveUp withdraws p, unrecorded, when the wait for its transaction ends; a transaction that has
// taken it already gives it its outcome.
func (rec *Recording) giveUp(waitCtx context.Context, batchID string, p *pendingResult) error {
	rec.mu.Lock()
	waiting := rec.waiting[batchID]
	i := slices.Index(waiting, p)
	if i >= 0 {
		rec.waiting[batchID] = slices.Delete(waiting, i, i+1)
		if len(rec.waiting[batchID]) == 0 {
			delete(rec.waiting, batchID)
		}
	}
	rec.mu.Unlock()
	if i < 0 {
		return <-p.done
	}
	return fmt.Errorf("wait to record item %s of batch %s: %w", p.result.ItemID, batchID, context.Cause(waitCtx))
}

// take removes and returns the results of batchID waiting, up to a transaction's worth.
func (rec *Recording) take(batchID string) []*pendingResult {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	waiting := rec.waiting[batchID]
	n := min(len(waiting), maxGroup)
	group := waiting[:n:n]
	if n == len(waiting) {
		delete(rec.waiting, batchID)
	} else {
		rec.waiting[batchID] = waiting[n:]
	}
	return group
}

// flush records the group and gives each result its outcome: together when it can, otherwise
// each one on its own, in its own record's context.
func (rec *Recording) flush(ctx context.Context, j Joiner, batchID string, group []*pendingResult) {
	switch len(group) {
	case 0:
		return
	case 1:
		group[0].done <- j.Join(group[0].ctx, batchID, group[0].result)
		return
	}
	results := make([]SubtaskResult, len(group))
	for i, p := range group {
		results[i] = p.result
	}
	err := j.JoinAll(ctx, batchID, results)
	if errors.Is(err, ErrRecordOneByOne) {
		for _, p := range group {
			p.done <- j.Join(p.ctx, batchID, p.result)
		}
		return
	}
	for _, p := range group {
		p.done <- err
	}
}

// FailureRecorder consumes the workers' dead-letter queue: each message there is a subtask that
// failed every attempt. It records the subtask FAILED with the same exactly-once transaction, so
// the batch still completes (COMPLETED_WITH_ERRORS) instead of waiting for ever.
type FailureRecorder struct {
	Joiner Joiner
	// MaxAttempts is the workers' queue's maxReceiveCount, for the failure's wording.
	MaxAttempts int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
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
		FinishedAt: clock.Now(f.Now).UTC(),
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
