package quotes

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

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
