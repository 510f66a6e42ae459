package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// SubtaskProcessor runs and records one subtask (fanout.Worker).
type SubtaskProcessor interface {
	Process(ctx context.Context, task fanout.Subtask) error
}

// SubtaskFailureRecorder records a dead-lettered subtask as failed (fanout.FailureRecorder).
type SubtaskFailureRecorder interface {
	Record(ctx context.Context, task fanout.Subtask) error
}

// BatchAggregator is the sink (fanout.Aggregator).
type BatchAggregator interface {
	Aggregate(ctx context.Context, batchID string) error
}

// Process handles a batch of subtask messages from the workers' queue.
type Process struct {
	// Subtasks must be safe for concurrent use when Concurrency is above 1.
	Subtasks    SubtaskProcessor
	Correlation correlation.Extractor
	// Budget decides when to stop starting messages (see sqsbatch).
	Budget budget.Budget
	// Concurrency is how many of the batch's messages are processed at once
	// (fanout.WorkerConcurrency); 0 or 1 processes them one after another.
	Concurrency int
	Log         *slog.Logger
}

// Handle processes the messages, up to Concurrency at once, and reports the ones that failed, so
// only those are retried.
func (h Process) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return eachSubtask(ctx, h.Log, h.Correlation, h.Budget, h.Concurrency, event, h.Subtasks.Process), nil
}

// RecordFailure handles a batch from the workers' dead-letter queue.
type RecordFailure struct {
	Subtasks    SubtaskFailureRecorder
	Correlation correlation.Extractor
	Budget      budget.Budget
	Log         *slog.Logger
}

// Handle records each dead-lettered subtask as failed. A message that cannot be recorded is
// reported, retried, and after its own maxReceiveCount moved to the recorder's dead-letter queue.
func (h RecordFailure) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return eachSubtask(ctx, h.Log, h.Correlation, h.Budget, 1, event, h.Subtasks.Record), nil
}

func eachSubtask(ctx context.Context, log *slog.Logger, ex correlation.Extractor, b budget.Budget, concurrency int, event events.SQSEvent, fn func(context.Context, fanout.Subtask) error) events.SQSEventResponse {
	watch := budget.Watch(ctx, log, budget.Budget{Margin: time.Second})
	defer watch.Stop()
	steps := &inFlight{watch: watch}
	handle := func(ctx context.Context, msg events.SQSMessage) error {
		var task fanout.Subtask
		if err := json.Unmarshal([]byte(msg.Body), &task); err != nil {
			// Cannot succeed on any attempt: the redrive policy moves it to the dead-letter queue.
			return fmt.Errorf("decode subtask from message %s: %w", msg.MessageId, err)
		}
		defer steps.start("item " + task.Item.ID + " of batch " + task.BatchID)()
		// An item handed back unstarted (fanout.ErrNoTimeForItem) wraps sqsbatch.ErrRetryLater:
		// sqsbatch logs it as a warning, not a failure to alarm on.
		return fn(ctx, task)
	}
	if concurrency <= 1 || isFIFO(event) {
		return sqsbatch.Process(ctx, log, ex, b, event, handle)
	}
	return processConcurrently(ctx, log, ex, b, concurrency, event, handle)
}

// processConcurrently is sqsbatch.Process with up to limit records in flight at once. Each record
// goes through sqsbatch.Process on its own, when it gets a slot, so it keeps every guarantee that
// gives a record: its own correlation IDs; a panic or an error failing it alone, logged once; and,
// when the budget is spent before it starts, a hand-back with its own WARN line. The failures are
// reported in the order of the records.
func processConcurrently(ctx context.Context, log *slog.Logger, ex correlation.Extractor, b budget.Budget, limit int, event events.SQSEvent, fn sqsbatch.Handler) events.SQSEventResponse {
	responses := make([]events.SQSEventResponse, len(event.Records))
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, msg := range event.Records {
		// No need to watch ctx here: a slot frees up when a record ends, and every record ends by
		// the budget's margin (its calls are bounded by it); sqsbatch.Process then checks the
		// budget before this record starts, and hands it back if none is left.
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			responses[i] = sqsbatch.Process(ctx, log, ex, b, events.SQSEvent{Records: []events.SQSMessage{msg}}, fn)
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range responses {
		resp.BatchItemFailures = append(resp.BatchItemFailures, r.BatchItemFailures...)
	}
	return resp
}

// isFIFO reports whether the records come from a FIFO queue, whose message groups must be
// processed in order: one record after another. FanoutTasksQueue is a standard queue; this keeps a
// fork that moves the worker to a FIFO queue correct.
func isFIFO(event events.SQSEvent) bool {
	return len(event.Records) > 0 && strings.HasSuffix(event.Records[0].EventSourceARN, ".fifo")
}

// inFlight names, for the warning budget.Watch logs before a timeout, every step in flight: with
// records side by side, the last one started is not necessarily the slow one.
type inFlight struct {
	watch *budget.Activity
	mu    sync.Mutex
	steps []string
}

// start adds step to those in flight and returns the function that removes it.
func (f *inFlight) start(step string) (done func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, step)
	f.watch.Doing(strings.Join(f.steps, "; "))
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.steps, step); i >= 0 { // the same item can be in a batch twice
			f.steps = slices.Delete(f.steps, i, i+1)
		}
		f.watch.Doing(strings.Join(f.steps, "; "))
	}
}

// Aggregate handles a batch of sink messages.
type Aggregate struct {
	Batches     BatchAggregator
	Correlation correlation.Extractor
	Budget      budget.Budget
	Log         *slog.Logger
}

// Handle aggregates each batch named; a failure is retried, then dead-lettered.
func (h Aggregate) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	watch := budget.Watch(ctx, h.Log, budget.Budget{Margin: time.Second})
	defer watch.Stop()
	return sqsbatch.Process(ctx, h.Log, h.Correlation, h.Budget, event, func(ctx context.Context, msg events.SQSMessage) error {
		id, err := fanout.DecodeSinkMessage(msg.Body)
		if err != nil {
			return err
		}
		watch.Doing("aggregate batch " + id)
		return h.Batches.Aggregate(ctx, id)
	}), nil
}
