// Package sqsqueue sends jobs' tasks to the jobs queue: the SQS adapter behind
// jobs.TaskSender.
//
// It is a package of its own, apart from jobs, because only SubmitJobFunction
// sends: GetJobFunction and ProcessJobFunction link jobs without it, and so
// without the SQS SDK, whose packages' init would otherwise run at each of
// their cold starts.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// API is the part of the SQS client the task queue calls.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue sends tasks to the jobs queue, with the caller's correlation ID and sampling decision
// as message attributes so the worker's logs join the same trail.
type Queue struct {
	SQS API
	URL string
	// Calls bounds each send, as in jobs.DynamoStore.
	Calls budget.Calls
}

// Send queues task.
func (q Queue) Send(ctx context.Context, task jobs.Task) error {
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
