package dynamostore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/budget"
)

// Defaults for a Store that leaves them unset.
const (
	// defaultWriteAttempts bounds the BatchWriteItem calls for one chunk: the first and the
	// retries of what DynamoDB left unprocessed (it throttles by returning UnprocessedItems).
	defaultWriteAttempts = 8
	defaultBackoff       = 50 * time.Millisecond
	maxBackoff           = 2 * time.Second
	// batchWriteLimit is BatchWriteItem's limit on requests per call.
	batchWriteLimit = 25
)

// ErrUnprocessed reports items DynamoDB still left unprocessed after every attempt.
var ErrUnprocessed = errors.New("items left unprocessed after every attempt")

// API is the part of the DynamoDB client the import store calls.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store keeps imports in three tables: Imports (one item per import, its checkpoint
// included), Orders and Rejects (one item per line, keyed importId + line).
type Store struct {
	DB                                      API
	ImportsTable, OrdersTable, RejectsTable string
	// Calls bounds each call by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
	// WriteAttempts bounds the BatchWriteItem calls per chunk; Backoff is the first wait
	// between them, doubled each time. Sleep waits (nil: a timer that ctx can cut short).
	WriteAttempts int
	Backoff       time.Duration
	Sleep         func(ctx context.Context, d time.Duration) error
}

// Create stores a new import; imports.ErrConflict if its id exists.
func (s Store) Create(ctx context.Context, imp imports.Import) error {
	item, err := attributevalue.MarshalMap(imp)
	if err != nil {
		return fmt.Errorf("marshal import %s: %w", imp.ID, err)
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("importId"))).Build()
	if err != nil {
		return fmt.Errorf("build condition: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.ImportsTable), Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return fmt.Errorf("put import %s: %w", imp.ID, conflictOr(err))
	}
	return nil
}

// Get reads an import with a strongly consistent read: a link must see the last checkpoint.
func (s Store) Get(ctx context.Context, id string) (imports.Import, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.ImportsTable), Key: importKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return imports.Import{}, fmt.Errorf("get import %s: %w", id, err)
	}
	if out.Item == nil {
		return imports.Import{}, imports.ErrNotFound
	}
	return unmarshalImport(id, out.Item)
}

// Claim records that hop depth works on a RUNNING import no later hop has claimed.
func (s Store) Claim(ctx context.Context, id string, depth int, now time.Time) (imports.Import, error) {
	update := expression.Set(expression.Name("depth"), expression.Value(depth)).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC())).
		Add(expression.Name("invocations"), expression.Value(1))
	cond := running().And(expression.Name("depth").LessThanEqual(expression.Value(depth)))
	out, err := s.update(ctx, id, update, cond, types.ReturnValueAllNew)
	if err != nil {
		return imports.Import{}, fmt.Errorf("claim import %s for hop %d: %w", id, depth, err)
	}
	return unmarshalImport(id, out.Attributes)
}

// Checkpoint moves the checkpoint from offset from, adding the batch's counts.
//
// The SDK retries a write whose answer did not arrive (a reset connection, a timeout, a 500), yet
// DynamoDB may have applied the first try; the retry then finds the checkpoint moved, by this very
// write. Taken for another invocation's, it would stop the chain with no one left to carry it on,
// and the import would stay RUNNING for ever. So each checkpoint carries a random id, and a failed
// condition whose existing item (ALL_OLD) holds ours is this write's success.
func (s Store) Checkpoint(ctx context.Context, id string, from int64, cp imports.Checkpoint) error {
	now := cp.Now.UTC()
	writeID := rand.Text()
	update := expression.Set(expression.Name("offset"), expression.Value(cp.Offset)).
		Set(expression.Name("line"), expression.Value(cp.Line)).
		Set(expression.Name("updatedAt"), expression.Value(now)).
		Set(expression.Name("checkpointId"), expression.Value(writeID)).
		Add(expression.Name("accepted"), expression.Value(cp.Accepted)).
		Add(expression.Name("rejected"), expression.Value(cp.Rejected))
	if cp.Hop != nil {
		hops := expression.IfNotExists(expression.Name("hops"), expression.Value([]imports.Hop{}))
		update = update.Set(expression.Name("hops"), expression.ListAppend(hops, expression.Value([]imports.Hop{*cp.Hop})))
	}
	if cp.Done {
		update = update.Set(expression.Name("status"), expression.Value(imports.StatusSucceeded)).
			Set(expression.Name("finishedAt"), expression.Value(now))
	}
	cond := running().And(expression.Name("offset").Equal(expression.Value(from)))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("build update: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.ImportsTable), Key: importKey(id),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if written, ok := failed.Item["checkpointId"].(*types.AttributeValueMemberS); ok && written.Value == writeID {
			return nil // our own write, applied by an earlier try whose answer was lost
		}
	}
	if err != nil {
		return fmt.Errorf("checkpoint import %s from byte %d to %d: %w", id, from, cp.Offset, conflictOr(err))
	}
	return nil
}

// Fail records FAILED with reason.
func (s Store) Fail(ctx context.Context, id string, depth int, reason string, now time.Time) error {
	update := expression.Set(expression.Name("status"), expression.Value(imports.StatusFailed)).
		Set(expression.Name("failure"), expression.Value(reason)).
		Set(expression.Name("finishedAt"), expression.Value(now.UTC())).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC()))
	cond := running().And(expression.Name("depth").LessThanEqual(expression.Value(depth)))
	if _, err := s.update(ctx, id, update, cond, types.ReturnValueNone); err != nil {
		return fmt.Errorf("fail import %s: %w", id, err)
	}
	return nil
}

// WriteOrders writes orders, 25 to a BatchWriteItem call, the calls concurrently.
func (s Store) WriteOrders(ctx context.Context, orders []imports.Order) error {
	requests := make([]types.WriteRequest, 0, len(orders))
	for _, o := range orders {
		item, err := attributevalue.MarshalMap(o)
		if err != nil {
			return fmt.Errorf("marshal order on line %d: %w", o.Line, err)
		}
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batchWrite(ctx, s.OrdersTable, requests)
}

// WriteRejects writes the rejects of import id like WriteOrders.
func (s Store) WriteRejects(ctx context.Context, id string, rejects []imports.Reject) error {
	requests := make([]types.WriteRequest, 0, len(rejects))
	for _, r := range rejects {
		item := map[string]types.AttributeValue{
			"importId": &types.AttributeValueMemberS{Value: id},
			"line":     &types.AttributeValueMemberN{Value: strconv.FormatInt(r.Line, 10)},
			"reason":   &types.AttributeValueMemberS{Value: r.Reason},
		}
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batchWrite(ctx, s.RejectsTable, requests)
}

// Rejects returns the first limit rejects of import id, by line.
func (s Store) Rejects(ctx context.Context, id string, limit int) ([]imports.Reject, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key("importId").Equal(expression.Value(id))).Build()
	if err != nil {
		return nil, fmt.Errorf("build key condition: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.RejectsTable), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query rejects of import %s: %w", id, err)
	}
	rejects := make([]imports.Reject, 0, len(out.Items))
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rejects); err != nil {
		return nil, fmt.Errorf("unmarshal rejects of import %s: %w", id, err)
	}
	return rejects, nil
}

// batchWrite writes requests in chunks of 25, concurrently, each chunk retrying what DynamoDB
// leaves unprocessed with exponential backoff.
func (s Store) batchWrite(ctx context.Context, table string, requests []types.WriteRequest) error {
	var wg sync.WaitGroup
	errs := make([]error, (len(requests)+batchWriteLimit-1)/batchWriteLimit)
	for i := 0; i*batchWriteLimit < len(requests); i++ {
		chunk := requests[i*batchWriteLimit : min((i+1)*batchWriteLimit, len(requests))]
		wg.Go(func() { errs[i] = s.writeChunk(ctx, table, chunk) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s Store) writeChunk(ctx context.Context, table string, chunk []types.WriteRequest) error {
	attempts := cmp.Or(s.WriteAttempts, defaultWriteAttempts)
	wait := cmp.Or(s.Backoff, defaultBackoff)
	pending := chunk
	for attempt := 1; ; attempt++ {
		callCtx, cancel := s.Calls.Context(ctx)
		out, err := s.DB.BatchWriteItem(callCtx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
		cancel()
		if err != nil {
			return fmt.Errorf("batch write %d items to %s: %w", len(pending), table, err)
		}
		pending = out.UnprocessedItems[table]
		if len(pending) == 0 {
			return nil
		}
		if attempt >= attempts {
			return fmt.Errorf("batch write to %s: %d of %d %w (%d attempts)", table, len(pending), len(chunk), ErrUnprocessed, attempts)
		}
		if err := s.sleep(ctx, wait); err != nil {
			return fmt.Errorf("batch write to %s: wait before retrying %d items: %w", table, len(pending), err)
		}
		wait = min(2*wait, maxBackoff)
	}
}

func (s Store) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s Store) update(ctx context.Context, id string, update expression.UpdateBuilder, cond expression.ConditionBuilder, ret types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build update: %w", err)
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.ImportsTable), Key: importKey(id),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: ret,
	})
	if err != nil {
		return nil, conflictOr(err)
	}
	return out, nil
}

func running() expression.ConditionBuilder {
	return expression.Name("status").Equal(expression.Value(imports.StatusRunning))
}

func importKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"importId": &types.AttributeValueMemberS{Value: id}}
}

func unmarshalImport(id string, item map[string]types.AttributeValue) (imports.Import, error) {
	var imp imports.Import
	if err := attributevalue.UnmarshalMap(item, &imp); err != nil {
		return imports.Import{}, fmt.Errorf("unmarshal import %s: %w", id, err)
	}
	return imp, nil
}

// conflictOr turns a failed condition into imports.ErrConflict (a lost race, not an outage).
func conflictOr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return imports.ErrConflict
	}
	return err
}
