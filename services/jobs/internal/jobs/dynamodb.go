package jobs

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

// DynamoDBAPI is the part of the DynamoDB client the job store calls.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DynamoStore keeps jobs in a DynamoDB table keyed by jobId. Every status change is a conditional
// update, so concurrent writers (a duplicate delivery, the poller recording TIMED_OUT) cannot both win.
type DynamoStore struct {
	DB    DynamoDBAPI
	Table string
	// Calls bounds each call, retries included, by its Timeout and by the invocation's remaining
	// time minus its margin, so a slow DynamoDB fails a call with time left to answer the caller.
	Calls budget.Calls
}

// Create stores a new job; ErrConflict if its id exists.
func (s DynamoStore) Create(ctx context.Context, job Job) error {
	item, err := attributevalue.MarshalMap(job)
	if err != nil {
		return fmt.Errorf("marshal job %s: %w", job.ID, err)
	}
	cond := expression.AttributeNotExists(expression.Name("jobId"))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
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
		return fmt.Errorf("put job %s: %w", job.ID, conflictOr(err))
	}
	return nil
}

// Get reads a job with a strongly consistent read, so a poller sees the worker's last write.
func (s DynamoStore) Get(ctx context.Context, id string) (Job, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	if out.Item == nil {
		return Job{}, ErrNotFound
	}
	var job Job
	if err := attributevalue.UnmarshalMap(out.Item, &job); err != nil {
		return Job{}, fmt.Errorf("unmarshal job %s: %w", id, err)
	}
	return job, nil
}

// Start moves a PENDING or RUNNING job to RUNNING and counts the attempt.
func (s DynamoStore) Start(ctx context.Context, id string, now time.Time) (Job, error) {
	update := expression.Set(expression.Name("status"), expression.Value(StatusRunning)).
		Set(expression.Name("startedAt"), expression.IfNotExists(expression.Name("startedAt"), expression.Value(now.UTC()))).
		Add(expression.Name("attempts"), expression.Value(1))
	cond := statusIn(StatusPending, StatusRunning)
	out, err := s.update(ctx, id, update, cond, types.ReturnValueAllNew)
	if err != nil {
		return Job{}, fmt.Errorf("start job %s: %w", id, err)
	}
	var job Job
	if err := attributevalue.UnmarshalMap(out.Attributes, &job); err != nil {
		return Job{}, fmt.Errorf("unmarshal job %s: %w", id, err)
	}
	return job, nil
}

// Finish moves a RUNNING job to status (SUCCEEDED or FAILED) with its result or failure.
func (s DynamoStore) Finish(ctx context.Context, id string, status Status, result *Result, failure *Failure, now time.Time) error {
	update := expression.Set(expression.Name("status"), expression.Value(status)).
		Set(expression.Name("finishedAt"), expression.Value(now.UTC()))
	if result != nil {
		update = update.Set(expression.Name("result"), expression.Value(result))
	}
	if failure != nil {
		update = update.Set(expression.Name("failure"), expression.Value(failure))
	}
	cond := expression.Name("status").Equal(expression.Value(StatusRunning))
	if _, err := s.update(ctx, id, update, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("finish job %s as %s: %w", id, status, err)
	}
	return nil
}

// TimeOut records TIMED_OUT for a job that is not done and past its deadline.
func (s DynamoStore) TimeOut(ctx context.Context, id string, now time.Time) error {
	failure := Failure{Reason: "deadline passed", Detail: "the job was not finished by its deadline"}
	update := expression.Set(expression.Name("status"), expression.Value(StatusTimedOut)).
		Set(expression.Name("finishedAt"), expression.Value(now.UTC())).
		Set(expression.Name("failure"), expression.Value(failure))
	cond := statusIn(StatusPending, StatusRunning).
		And(expression.Name("deadline").LessThan(expression.Value(now.Unix())))
	if _, err := s.update(ctx, id, update, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("time out job %s: %w", id, err)
	}
	return nil
}

func (s DynamoStore) update(ctx context.Context, id string, update expression.UpdateBuilder, cond expression.ConditionBuilder, ret types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build update: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       key(id),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              ret,
	})
	if err != nil {
		return nil, conflictOr(err)
	}
	return out, nil
}

func statusIn(first Status, rest ...Status) expression.ConditionBuilder {
	others := make([]expression.OperandBuilder, len(rest))
	for i, s := range rest {
		others[i] = expression.Value(s)
	}
	return expression.Name("status").In(expression.Value(first), others...)
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"jobId": &types.AttributeValueMemberS{Value: id}}
}

// conflictOr turns a failed condition into ErrConflict (a lost race, not an outage).
func conflictOr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrConflict
	}
	return err
}
