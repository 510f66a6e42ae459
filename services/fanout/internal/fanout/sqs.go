package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// SendBatchSize is the most messages one SendMessageBatch call takes.
const SendBatchSize = 10

// entryAttempts is how often an entry SQS refused in a SendMessageBatch answer is sent again.
const entryAttempts = 3

// SQSAPI is the part of the SQS client the queues call.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQSTaskQueue sends subtasks to the workers' queue, ten per call, with the caller's correlation
// IDs as message attributes.
type SQSTaskQueue struct {
	SQS SQSAPI
	URL string
	// Calls bounds each call, as in DynamoStore.
	Calls budget.Calls
}

// SendBatch sends up to SendBatchSize subtasks in one call. SendMessageBatch can succeed for some
// entries and fail for others; only the failed ones are sent again (at most entryAttempts times),
// so a partial failure never duplicates the entries that went through.
func (q SQSTaskQueue) SendBatch(ctx context.Context, tasks []Subtask) error {
	if len(tasks) > SendBatchSize {
		return fmt.Errorf("send %d subtasks in one batch: at most %d", len(tasks), SendBatchSize)
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

// sinkMessage is the sink queue's message: only the batch id, the record is the source of truth.
type sinkMessage struct {
	BatchID string `json:"batchId"`
}

// SQSSinkQueue sends "aggregate this batch" to the sink's queue.
type SQSSinkQueue struct {
	SQS   SQSAPI
	URL   string
	Calls budget.Calls
}

// Send asks the sink to aggregate batchID.
func (q SQSSinkQueue) Send(ctx context.Context, batchID string) error {
	body, _ := json.Marshal(sinkMessage{BatchID: batchID}) // a struct of one string always marshals
	ctx, cancel := q.Calls.Context(ctx)
	defer cancel()
	_, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: sqsattr.Attributes(ctx),
	})
	if err != nil {
		return fmt.Errorf("send batch %s to the sink: %w", batchID, err)
	}
	return nil
}

// DecodeSinkMessage reads the batch id from a sink queue message body.
func DecodeSinkMessage(body string) (string, error) {
	var m sinkMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil || !validID(m.BatchID) {
		return "", fmt.Errorf("sink message %.100q names no batch", body)
	}
	return m.BatchID, nil
}
