package ledger

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

// ErrOutOfOrder means the read model is behind an event written before events carried
// balanceAfter by more than one version: an earlier event has not been projected yet, so this
// one must be retried after it.
var ErrOutOfOrder = errors.New("event arrived before the one preceding it")

// Summary is one row of the read model: an account as its owner's list shows it.
type Summary struct {
	Owner     string `dynamodbav:"owner" json:"-"`
	AccountID string `dynamodbav:"accountId" json:"accountId"`
	Balance   int64  `dynamodbav:"balance" json:"balance"`
	Version   int64  `dynamodbav:"version" json:"version"`
}

// ReadModelAPI is the part of the DynamoDB client the read model calls.
type ReadModelAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// ReadModel is the accounts-by-owner table (partition key owner, sort key accountId) that
// GET /accounts reads. It is derived from the events and can be rebuilt from them.
type ReadModel struct {
	DB    ReadModelAPI
	Table string
	// Calls bounds each call by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Apply projects e: it sets the row to the balance after e (0 for an opening) and e's version,
// unless the row is already at e's version or later. An event is enough on its own: when the
// stream loses one (a record sent to the OnFailure queue), the next event of the account still
// sets the right balance, and the one lost, if it comes back, is older and changes nothing. A
// redelivered event changes nothing either, so a balance is never counted twice.
func (m ReadModel) Apply(ctx context.Context, e Event) error {
	key := map[string]types.AttributeValue{"owner": str(e.Owner), "accountId": str(e.AccountID)}
	after := int64(0)
	switch {
	case e.BalanceAfter != nil:
		after = *e.BalanceAfter
	case e.Type != Opened:
		return m.applyDelta(ctx, key, e)
	}
	callCtx, cancel := m.Calls.Context(ctx)
	defer cancel()
	_, err := m.DB.UpdateItem(callCtx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Table),
		Key:                       key,
		UpdateExpression:          aws.String("SET balance = :after, version = :v"),
		ConditionExpression:       aws.String("attribute_not_exists(version) OR version < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":after": num(after), ":v": num(e.Version)},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil // the row is at e's version or later: a redelivery, or an event found late
	}
	if err != nil {
		return fmt.Errorf("project %s version %d: %w", e.AccountID, e.Version, err)
	}
	return nil
}

// applyDelta projects an event written before events carried balanceAfter: it can only add its
// amount to the row, so it needs the row at exactly the version before it.
func (m ReadModel) applyDelta(ctx context.Context, key map[string]types.AttributeValue, e Event) error {
	delta := e.Amount
	if e.Type == Withdrawn {
		delta = -delta
	}
	updateCtx, cancel := m.Calls.Context(ctx)
	defer cancel()
	_, err := m.DB.UpdateItem(updateCtx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Table),
		Key:                       key,
		UpdateExpression:          aws.String("SET balance = balance + :delta, version = :v"),
		ConditionExpression:       aws.String("version = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":delta": num(delta), ":v": num(e.Version), ":prev": num(e.Version - 1)},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
		if err != nil {
			return fmt.Errorf("project %s version %d: %w", e.AccountID, e.Version, err)
		}
		return nil
	}
	getCtx, cancelGet := m.Calls.Context(ctx)
	defer cancelGet()
	out, err := m.DB.GetItem(getCtx, &dynamodb.GetItemInput{TableName: aws.String(m.Table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read projection of %s: %w", e.AccountID, err)
	}
	var row Summary
	if err := attributevalue.UnmarshalMap(out.Item, &row); err != nil {
		return fmt.Errorf("unmarshal projection of %s: %w", e.AccountID, err)
	}
	if out.Item != nil && row.Version >= e.Version {
		return nil // already projected: a redelivery
	}
	return fmt.Errorf("project %s version %d onto version %d: %w", e.AccountID, e.Version, row.Version, ErrOutOfOrder)
}

// List returns up to limit of owner's accounts with IDs after after ("": from the first), in
// account ID order, and whether more follow. The partition is always owner, which the caller
// takes from the request's verified identity; after only says where to start inside it, so no
// value of after can reach another owner's rows.
func (m ReadModel) List(ctx context.Context, owner, after string, limit int) ([]Summary, bool, error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("list accounts of %s: limit %d is below 1", owner, limit)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(m.Table),
		KeyConditionExpression:    aws.String("#o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(owner)},
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("#o = :o AND accountId > :after")
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	items, err := queryPages(ctx, m.DB, m.Calls, in, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts of %s after %q: %w", owner, after, err)
	}
	rows := make([]Summary, len(items))
	if err := attributevalue.UnmarshalListOfMaps(items, &rows); err != nil {
		return nil, false, fmt.Errorf("unmarshal accounts of %s: %w", owner, err)
	}
	rows, more := trimPage(rows, limit)
	return rows, more, nil
}

// Projector turns one stored event into its effects outside the events table.
type Projector struct {
	ReadModel interface {
		Apply(ctx context.Context, e Event) error
	}
	Publisher interface {
		Publish(ctx context.Context, e Event) error
	}
}

// Project updates the read model, then publishes. A retry after a failed publish finds the read
// model already up to date and publishes again: at least once, never a balance counted twice.
func (p Projector) Project(ctx context.Context, e Event) error {
	if err := p.ReadModel.Apply(ctx, e); err != nil {
		return err
	}
	return p.Publisher.Publish(ctx, e)
}
