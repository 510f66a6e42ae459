package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

// DynamoDBAPI is the part of the DynamoDB client the upload store calls.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// OwnerIndex is UploadsTable's global secondary index by owner, newest createdAt first: it
// projects what a list of uploads shows, never the object key or checksum.
const OwnerIndex = "ByOwner"

// DynamoStore keeps uploads in a DynamoDB table keyed by uploadId, with an index by owner.
type DynamoStore struct {
	DB    DynamoDBAPI
	Table string
	// Calls bounds each call by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Create stores a new upload; ErrConflict if its id exists.
func (s DynamoStore) Create(ctx context.Context, u Upload) error {
	item, err := attributevalue.MarshalMap(u)
	if err != nil {
		return fmt.Errorf("marshal upload %s: %w", u.ID, err)
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("uploadId"))).Build()
	if err != nil {
		return fmt.Errorf("build condition: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.Table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return fmt.Errorf("put upload %s: %w", u.ID, conflictOr(err))
	}
	return nil
}

// Get reads an upload with a strongly consistent read, so a poller sees the verifier's last write.
func (s DynamoStore) Get(ctx context.Context, id string) (Upload, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Upload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	if out.Item == nil {
		return Upload{}, ErrNotFound
	}
	var u Upload
	if err := attributevalue.UnmarshalMap(out.Item, &u); err != nil {
		return Upload{}, fmt.Errorf("unmarshal upload %s: %w", id, err)
	}
	return u, nil
}

// Finish moves a PENDING upload to status, with the reason for a rejection. An AVAILABLE upload
// loses its TTL: it is kept until deleted on purpose.
func (s DynamoStore) Finish(ctx context.Context, id string, status Status, reason string, now time.Time) error {
	update := expression.Set(expression.Name("status"), expression.Value(status)).
		Set(expression.Name("verifiedAt"), expression.Value(now.UTC()))
	if reason != "" {
		update = update.Set(expression.Name("reason"), expression.Value(reason))
	}
	if status == StatusAvailable {
		update = update.Remove(expression.Name("purgeAt"))
	}
	cond := expression.Name("status").Equal(expression.Value(StatusPending))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("build update: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       key(id),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return fmt.Errorf("finish upload %s as %s: %w", id, status, conflictOr(err))
	}
	return nil
}

// ListByOwner returns the owner's limit most recent uploads, newest first, from OwnerIndex. A
// global secondary index is eventually consistent: an upload created or decided a moment ago may
// show its previous state, or not yet at all, for a fraction of a second.
func (s DynamoStore) ListByOwner(ctx context.Context, owner string, limit int) ([]Upload, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key("owner").Equal(expression.Value(owner))).Build()
	if err != nil {
		return nil, fmt.Errorf("build key condition: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String(OwnerIndex),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("query uploads of %s: %w", owner, err)
	}
	list := make([]Upload, 0, len(out.Items))
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &list); err != nil {
		return nil, fmt.Errorf("unmarshal uploads of %s: %w", owner, err)
	}
	return list, nil
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"uploadId": &types.AttributeValueMemberS{Value: id}}
}

// conflictOr turns a failed condition into ErrConflict (a lost race, not an outage).
func conflictOr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrConflict
	}
	return err
}
