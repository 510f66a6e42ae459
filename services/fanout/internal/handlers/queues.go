package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	Subtasks    SubtaskProcessor
	Correlation correlation.Extractor
	// Budget decides when to stop starting messages (see sqsbatch).
	Budget budget.Budget
	Log    *slog.Logger
}

// Handle processes each message and reports the ones that failed, so only those are retried.
func (h Process) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return eachSubtask(ctx, h.Log, h.Correlation, h.Budget, event, h.Subtasks.Process), nil
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
	return eachSubtask(ctx, h.Log, h.Correlation, h.Budget, event, h.Subtasks.Record), nil
}

func eachSubtask(ctx context.Context, log *slog.Logger, ex correlation.Extractor, b budget.Budget, event events.SQSEvent, fn func(context.Context, fanout.Subtask) error) events.SQSEventResponse {
	watch := budget.Watch(ctx, log, budget.Budget{Margin: time.Second})
	defer watch.Stop()
	return sqsbatch.Process(ctx, log, ex, b, event, func(ctx context.Context, msg events.SQSMessage) error {
		watch.Doing("message " + msg.MessageId)
		var task fanout.Subtask
		if err := json.Unmarshal([]byte(msg.Body), &task); err != nil {
			// Cannot succeed on any attempt: the redrive policy moves it to the dead-letter queue.
			return fmt.Errorf("decode subtask from message %s: %w", msg.MessageId, err)
		}
		watch.Doing("item " + task.Item.ID + " of batch " + task.BatchID)
		err := fn(ctx, task)
		if errors.Is(err, fanout.ErrNoTimeForItem) {
			// Handed back on purpose, unstarted: a warning, not a failure to alarm on.
			return fmt.Errorf("%w: %w", err, sqsbatch.ErrRetryLater)
		}
		return err
	})
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
