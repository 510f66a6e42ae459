package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// SQSAPI is the part of the SQS client an event source mapping calls.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// SQSMapping is an SQS event source mapping as Lambda runs it: pollers receive messages, hand
// them to the function in batches, and delete what the function processed. A message that is not
// deleted becomes visible again when its visibility timeout ends, and the queue's redrive policy
// moves it to the dead-letter queue after maxReceiveCount receives: the queue, not the mapping,
// decides what is poison.
type SQSMapping struct {
	SQS      SQSAPI
	Invoker  Invoker
	Log      *slog.Logger
	Function string
	QueueURL string
	QueueARN string
	Region   string
	// BatchSize is the most messages in one invocation (SAM's default is 10).
	BatchSize int
	// Window is MaximumBatchingWindowInSeconds: how long to gather messages before invoking.
	Window time.Duration
	// Concurrency is ScalingConfig.MaximumConcurrency: how many batches are in flight at once.
	Concurrency int
	// ReportBatchItemFailures is FunctionResponseTypes [ReportBatchItemFailures]: the function's
	// answer lists the failed messages and only those stay on the queue.
	ReportBatchItemFailures bool
	// Observer, when set, is told of every batch received (the runner's ops page).
	Observer QueueObserver
}

// QueueObserver is told of each batch an SQS mapping receives: the queue's ARN, the number of
// messages and the age of the oldest one, which is what SQS's ApproximateAgeOfOldestMessage
// metric shows for a queue its consumer keeps up with.
type QueueObserver interface {
	QueueReceived(queue string, messages int, oldest time.Duration)
}

// Run polls until ctx ends. Each of Concurrency pollers receives, invokes and deletes in a loop.
func (m *SQSMapping) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(m.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := m.pollOnce(ctx); err != nil && ctx.Err() == nil {
					m.Log.Error("sqs event source", "function", m.Function, "queue", m.QueueARN, "error", err)
					sleep(ctx, time.Second)
				}
			}
		}()
	}
	wg.Wait()
}

// pollOnce gathers one batch and delivers it.
func (m *SQSMapping) pollOnce(ctx context.Context) error {
	batch, err := m.gather(ctx)
	if err != nil || len(batch) == 0 {
		return err
	}
	if m.Observer != nil {
		m.Observer.QueueReceived(m.QueueARN, len(batch), oldestAge(batch, time.Now()))
	}
	event := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, msg := range batch {
		event.Records[i] = m.record(msg)
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("marshal sqs event: %w", err)
	}
	// Every way a received batch goes back to the queue names its messages: a record that comes
	// back one visibility timeout later can always be traced to why.
	result, err := m.invoke(ctx, payload)
	if err != nil {
		// Not delivered (the runner is stopping, or throttled past the retries): the messages
		// reappear after their visibility timeout, as with Lambda.
		return fmt.Errorf("invoke %s; messages %v return to the queue: %w", m.Function, messageIDs(batch), err)
	}
	if result.Err != nil {
		m.Log.Warn("function failed; the whole batch returns to the queue", "function", m.Function, "messages", len(batch), "messageIds", messageIDs(batch), "errorType", result.Err.Type, "errorMessage", result.Err.Message)
		return nil
	}
	done, err := m.processed(batch, result.Payload)
	if err != nil {
		m.Log.Warn("invalid batch response; the whole batch returns to the queue", "function", m.Function, "messageIds", messageIDs(batch), "error", err)
		return nil
	}
	return m.delete(ctx, done)
}

// gather receives up to BatchSize messages, for at most Window once the first has arrived.
func (m *SQSMapping) gather(ctx context.Context) ([]types.Message, error) {
	size := max(m.BatchSize, 1)
	var batch []types.Message
	var windowEnd time.Time
	for len(batch) < size {
		wait := int32(2) // long poll, short enough that Ctrl-C stops the runner promptly
		if len(batch) > 0 {
			left := time.Until(windowEnd)
			if left < time.Second/2 {
				break // long polls have whole seconds; close enough to the window's end
			}
			wait = int32(min(left.Round(time.Second)/time.Second, 20))
		}
		out, err := m.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.QueueURL),
			MaxNumberOfMessages:         int32(min(size-len(batch), 10)),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(batch) > 0 {
				return batch, nil // deliver what we hold; the next poll reports the error
			}
			return nil, fmt.Errorf("receive from %s: %w", m.QueueARN, err)
		}
		if len(batch) == 0 && len(out.Messages) > 0 {
			windowEnd = time.Now().Add(m.Window)
		}
		batch = append(batch, out.Messages...)
		if len(batch) > 0 && m.Window == 0 {
			break
		}
	}
	return batch, nil
}

// invoke calls the function, retrying while it is throttled (Lambda's poller backs off the same way).
func (m *SQSMapping) invoke(ctx context.Context, payload []byte) (lambdapool.Result, error) {
	backoff := 100 * time.Millisecond
	for {
		result, err := m.Invoker.Invoke(ctx, m.Function, payload)
		if !errors.Is(err, lambdapool.ErrThrottled) {
			return result, err
		}
		if !sleep(ctx, backoff) {
			return lambdapool.Result{}, ctx.Err()
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// processed returns the messages to delete: all of them, or with ReportBatchItemFailures all but
// those the function listed. As with Lambda, a response that names a message not in the batch, or
// names one with an empty id, fails the whole batch.
func (m *SQSMapping) processed(batch []types.Message, payload []byte) ([]types.Message, error) {
	if !m.ReportBatchItemFailures {
		return batch, nil
	}
	var resp events.SQSEventResponse
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &resp); err != nil {
			return nil, fmt.Errorf("decode batch response: %w", err)
		}
	}
	failed := make(map[string]bool, len(resp.BatchItemFailures))
	inBatch := make(map[string]bool, len(batch))
	for _, msg := range batch {
		inBatch[aws.ToString(msg.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !inBatch[f.ItemIdentifier] {
			return nil, fmt.Errorf("batch response names unknown message %q", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	var done []types.Message
	for _, msg := range batch {
		if !failed[aws.ToString(msg.MessageId)] {
			done = append(done, msg)
		}
	}
	return done, nil
}

func (m *SQSMapping) delete(ctx context.Context, msgs []types.Message) error {
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, msg := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle}
		}
		out, err := m.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("delete processed messages from %s: %w", m.QueueARN, err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("delete processed messages from %s: %d of %d failed", m.QueueARN, len(out.Failed), len(chunk))
		}
	}
	return nil
}

// record converts a received message to the record Lambda hands the function.
func (m *SQSMapping) record(msg types.Message) events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(msg.MessageAttributes))
	for name, a := range msg.MessageAttributes {
		attrs[name] = events.SQSMessageAttribute{
			StringValue:      a.StringValue,
			BinaryValue:      a.BinaryValue,
			StringListValues: a.StringListValues,
			BinaryListValues: a.BinaryListValues,
			DataType:         aws.ToString(a.DataType),
		}
	}
	return events.SQSMessage{
		MessageId:              aws.ToString(msg.MessageId),
		ReceiptHandle:          aws.ToString(msg.ReceiptHandle),
		Body:                   aws.ToString(msg.Body),
		Md5OfBody:              aws.ToString(msg.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(msg.MD5OfMessageAttributes),
		Attributes:             msg.Attributes,
		MessageAttributes:      attrs,
		EventSourceARN:         m.QueueARN,
		EventSource:            "aws:sqs",
		AWSRegion:              m.Region,
	}
}

// sleep waits d or until ctx ends; it reports whether the full wait happened.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// messageIDs lists a batch's message ids, for log lines about the whole batch.
func messageIDs(batch []types.Message) []string {
	ids := make([]string, len(batch))
	for i, msg := range batch {
		ids[i] = aws.ToString(msg.MessageId)
	}
	return ids
}

// oldestAge is the age at now of the oldest message in batch, from SQS's SentTimestamp.
func oldestAge(batch []types.Message, now time.Time) time.Duration {
	var oldest time.Duration
	for _, msg := range batch {
		ms, err := strconv.ParseInt(msg.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
		if err != nil {
			continue
		}
		oldest = max(oldest, now.Sub(time.UnixMilli(ms)))
	}
	return oldest
}
