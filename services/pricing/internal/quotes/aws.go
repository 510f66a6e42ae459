package quotes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

// EngineAttribute is the SQS message attribute that repeats the job's engine, so the decision is
// visible in the console and to queue tooling without parsing the body. The body is what the
// worker trusts.
const EngineAttribute = "pricing-engine"

// SQSAPI is the part of the SQS client SQSQueue calls.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSQueue sends jobs to the quotes queue with the correlation IDs and the engine as attributes.
type SQSQueue struct {
	SQS SQSAPI
	URL string
	// Calls bounds the send by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Send queues job.
func (q SQSQueue) Send(ctx context.Context, job Job) error {
	body, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("marshal quote job %s: %w", job.QuoteID, err)
	}
	attrs := sqsattr.Attributes(ctx)
	if attrs == nil {
		attrs = map[string]sqstypes.MessageAttributeValue{}
	}
	attrs[EngineAttribute] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(string(job.Engine))}
	ctx, cancel := q.Calls.Context(ctx)
	defer cancel()
	if _, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)), MessageAttributes: attrs,
	}); err != nil {
		return fmt.Errorf("send quote job %s: %w", job.QuoteID, err)
	}
	return nil
}

// DynamoAPI is the part of the DynamoDB client DynamoStore calls.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// DynamoStore keeps quotes in the quotes table (key quoteId).
type DynamoStore struct {
	DB    DynamoAPI
	Table string
	// Calls bounds each call by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Put writes q if no quote with its ID exists.
func (s DynamoStore) Put(ctx context.Context, q Quote) (bool, error) {
	item, err := attributevalue.MarshalMap(q)
	if err != nil {
		return false, fmt.Errorf("marshal quote %s: %w", q.QuoteID, err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(quoteId)"),
	})
	if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok && ccf != nil {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put quote %s: %w", q.QuoteID, err)
	}
	return true, nil
}

// Get reads quote id.
func (s DynamoStore) Get(ctx context.Context, id string) (Quote, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: map[string]types.AttributeValue{"quoteId": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		return Quote{}, fmt.Errorf("get quote %s: %w", id, err)
	}
	if out.Item == nil {
		return Quote{}, ErrNotFound
	}
	var q Quote
	if err := attributevalue.UnmarshalMap(out.Item, &q); err != nil {
		return Quote{}, fmt.Errorf("unmarshal quote %s: %w", id, err)
	}
	return q, nil
}
