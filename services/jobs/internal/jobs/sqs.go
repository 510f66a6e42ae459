package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// SQSAPI is the part of the SQS client the task queue calls.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSQueue sends tasks to the jobs queue, with the caller's correlation ID and sampling decision
// as message attributes so the worker's logs join the same trail.
type SQSQueue struct {
	SQS SQSAPI
	URL string
	// Calls bounds each send, as in DynamoStore.
	Calls budget.Calls
}

// Send queues task.
func (q SQSQueue) Send(ctx context.Context, task Task) error {
	body, err := json.Marshal(task)
	if err != nil {
		return fmt.Errorf("marshal task for job %s: %w", task.JobID, err)
	}
	ctx, cancel := q.Calls.Context(ctx)
	defer cancel()
	_, err = q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: sqsattr.Attributes(ctx),
	})
	if err != nil {
		return fmt.Errorf("send task for job %s: %w", task.JobID, err)
	}
	return nil
}
