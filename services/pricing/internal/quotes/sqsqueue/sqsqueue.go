// Package sqsqueue sends quote jobs to the quotes queue: the SQS adapter behind quotes.Queue.
//
// It is a package of its own, apart from quotes, because only SubmitQuoteFunction sends:
// GetQuoteFunction and ProcessQuoteFunction link quotes without it, and so without the SQS SDK,
// whose packages' init would otherwise run at each of their cold starts.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// EngineAttribute is the SQS message attribute that repeats the job's engine, so the decision is
// visible in the console and to queue tooling without parsing the body. The body is what the
// worker trusts.
const EngineAttribute = "pricing-engine"

// API is the part of the SQS client Queue calls.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue sends jobs to the quotes queue with the correlation IDs and the engine as attributes.
type Queue struct {
	SQS API
	URL string
	// Calls bounds the send by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Send queues job.
func (q Queue) Send(ctx context.Context, job quotes.Job) error {
	body, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("marshal quote job %s: %w", job.QuoteID, err)
	}
	attrs := sqsattr.Attributes(ctx)
	if attrs == nil {
		attrs = map[string]types.MessageAttributeValue{}
	}
	attrs[EngineAttribute] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(string(job.Engine))}
	ctx, cancel := q.Calls.Context(ctx)
	defer cancel()
	if _, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)), MessageAttributes: attrs,
	}); err != nil {
		return fmt.Errorf("send quote job %s: %w", job.QuoteID, err)
	}
	return nil
}
