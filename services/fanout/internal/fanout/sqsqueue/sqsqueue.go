// Package sqsqueue sends fanout's messages to SQS: subtasks to the workers' queue (TaskQueue,
// behind fanout.TaskSender) and "aggregate this batch" to the sink's queue (SinkQueue, behind
// fanout.SinkSender).
//
// It is a package of its own, apart from fanout, because only SubmitBatchFunction,
// ProcessSubtaskFunction and RecordFailedSubtaskFunction send: GetBatchFunction and
// AggregateBatchFunction link fanout without it, and so without the SQS SDK, whose packages' init
// would otherwise run at each of their cold starts.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// entryAttempts is how often an entry SQS refused in a SendMessageBatch answer is sent again.
const entryAttempts = 3

// API is the part of the SQS client the queues call.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// TaskQueue sends subtasks to the workers' queue, ten per call, with the caller's correlation
// IDs as message attributes.
type TaskQueue struct {
	SQS API
	URL string
	// Calls bounds each call, as in fanout.DynamoStore.
	Calls budget.Calls
}

// SendBatch sends up to fanout.SendBatchSize subtasks in one call. SendMessageBatch can succeed
// for some entries and fail for others; only the failed ones are sent again (at most entryAttempts
// times), so a partial failure never duplicates the entries that went through.
func (q TaskQueue) SendBatch(ctx context.Context, tasks []fanout.Subtask) error {
	if len(tasks) > fanout.SendBatchSize {
		return fmt.Errorf("send %d subtasks in one batch: at most %d", len(tasks), fanout.SendBatchSize)
	}
	attrs := sqsattr.Attributes(ctx)
	pending := make([]types.SendMessageBatchRequestEntry, len(tasks))
	for i, task := range tasks {
		body, err := json.Marshal(task)
		if err != nil {
			return fmt.Errorf("marshal subtask %s of batch %s: %w", task.Item.ID, task.BatchID, err)
		}
		pending[i] = types.SendMessageBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			MessageBody:       aws.String(string(body)),
			MessageAttributes: attrs,
		}
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		callCtx, cancel := q.Calls.Context(ctx)
		out, err := q.SQS.SendMessageBatch(callCtx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: pending})
		cancel()
		if err != nil {
			// The SDK already retried the call; nothing is known to have been sent.
			return fmt.Errorf("send %d subtasks of batch %s: %w", len(pending), tasks[0].BatchID, err)
		}
		if len(out.Failed) == 0 {
			return nil
		}
		if attempt == entryAttempts {
			first := out.Failed[0]
			return fmt.Errorf("send subtasks of batch %s: %d entries still refused after %d attempts (%s: %s)",
				tasks[0].BatchID, len(out.Failed), attempt, aws.ToString(first.Code), aws.ToString(first.Message))
		}
		failed := make(map[string]bool, len(out.Failed))
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
		}
		retry := pending[:0:0]
		for _, e := range pending {
			if failed[aws.ToString(e.Id)] {
				retry = append(retry, e)
			}
		}
		pending = retry
		select {
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// SinkQueue sends "aggregate this batch" to the sink's queue.
type SinkQueue struct {
	SQS   API
	URL   string
	Calls budget.Calls
}

// Send asks the sink to aggregate batchID.
func (q SinkQueue) Send(ctx context.Context, batchID string) error {
	body := fanout.EncodeSinkMessage(batchID)
	ctx, cancel := q.Calls.Context(ctx)
	defer cancel()
	_, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(body),
		MessageAttributes: sqsattr.Attributes(ctx),
	})
	if err != nil {
		return fmt.Errorf("send batch %s to the sink: %w", batchID, err)
	}
	return nil
}
