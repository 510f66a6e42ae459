package fanout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

// Sort keys: a batch's record and its subtasks' results share the partition key batchId, so the
// sink reads every result of a batch with one paginated Query.
const (
	batchSK      = "batch"
	subtaskSKPre = "task#"
)

// DefaultConflictPatience is how long a write to the batch record keeps trying while concurrent
// transactions hold it (a transaction cancelled with TransactionConflict, a plain UpdateItem
// refused with TransactionConflictException), counted from its first attempt, when
// DynamoStore.ConflictPatience is zero. After that the error goes to the caller: a worker hands
// its message back to the queue, the ventilator answers 500 and its retry resumes.
//
// It is a time, not a number of attempts, because of how writers meet on one item: DynamoDB
// cancels the newcomer and keeps no queue, and a writer whose next transaction follows its last
// at once keeps finding the item free while the others, backing off, keep finding it held. The
// eight attempts this store used to make (about 0.3 s) gave up on up to a quarter of a busy
// batch's results in BenchmarkWorkerOnAWSConflicts; five seconds gives up on almost none
// (services/fanout/README.md, the hot key). Every call is also bounded by the invocation's budget (Calls), so the attempts end
// in time for the invocation to answer.
const DefaultConflictPatience = 5 * time.Second

// DynamoDBAPI is the part of the DynamoDB client the store calls.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DynamoStore keeps batches and subtask results in one DynamoDB table (partition key batchId, sort
// key sk). Every status change is conditional, and every subtask result is written in the same
// transaction as the counter change it causes.
type DynamoStore struct {
	DB    DynamoDBAPI
	Table string
	// Calls bounds each call by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
	// RetentionFor is how long subtask results are kept (their TTL), counted from when they are
	// written; zero means 7 days.
	RetentionFor time.Duration
	// ConflictPatience is how long a write to the batch record keeps trying while concurrent
	// transactions hold it; zero means DefaultConflictPatience.
	ConflictPatience time.Duration
}

// Create stores a new batch record; ErrConflict if the batch exists.
func (s DynamoStore) Create(ctx context.Context, b Batch) error {
	item, err := attributevalue.MarshalMap(b)
	if err != nil {
		return fmt.Errorf("marshal batch %s: %w", b.ID, err)
	}
	item["sk"] = str(batchSK)
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(batchId)"),
	})
	if err != nil {
		return fmt.Errorf("put batch %s: %w", b.ID, conflictOr(err))
	}
	return nil
}

// Get reads a batch with a strongly consistent read.
func (s DynamoStore) Get(ctx context.Context, id string) (Batch, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            batchKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Batch{}, fmt.Errorf("get batch %s: %w", id, err)
	}
	if out.Item == nil {
		return Batch{}, ErrNotFound
	}
	return unmarshalBatch(id, out.Item)
}

// Resume claims an unfinished fan-out for another attempt by moving its PublishBy, and its Deadline
// with it (see Submitter.Deadline); ErrConflict if the batch is no longer RUNNING (it was marked
// FAILED as interrupted, or is finished).
func (s DynamoStore) Resume(ctx context.Context, id string, publishBy, deadline time.Time) error {
	return s.update(ctx, id, "resume fan-out of", &dynamodb.UpdateItemInput{
		UpdateExpression:    aws.String("SET publishBy = :by, deadline = :deadline"),
		ConditionExpression: aws.String("#s = :running"),
		ExpressionAttributeNames: map[string]string{
			"#s": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":by": num(publishBy.Unix()), ":deadline": num(deadline.Unix()), ":running": str(string(StatusRunning)),
		},
	})
}

// Advance moves the fan-out cursor forward to published. A cursor already past it (a concurrent
// resume got further) is left alone.
func (s DynamoStore) Advance(ctx context.Context, id string, published int) error {
	err := s.update(ctx, id, "advance fan-out cursor of", &dynamodb.UpdateItemInput{
		UpdateExpression:          aws.String("SET published = :n"),
		ConditionExpression:       aws.String("published < :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(published))},
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}

// Record stores a subtask's result and counts it on the batch, atomically, exactly once:
//
//   - ErrDuplicate when the result is already there (the subtask was redelivered; it counted already);
//   - ErrBatchClosed when the batch no longer takes results (FAILED, or complete);
//   - last is true for the one call that recorded the batch's final subtask: its transaction also
//     moved the batch from RUNNING to AGGREGATING, so no other call can see last == true.
//
// The common case is one transaction whose batch update is conditioned on remaining > 1. When that
// condition fails with remaining == 1, this is the last subtask, and a second transaction sets
// remaining to 0 and the status to AGGREGATING, conditioned on remaining == 1 and RUNNING.
func (s DynamoStore) Record(ctx context.Context, batchID string, r SubtaskResult) (last bool, err error) {
	put, err := s.subtaskPut(batchID, r)
	if err != nil {
		return false, err
	}
	counter := "completed"
	if r.Status == SubtaskFailed {
		counter = "failed"
	}
	notLast := &types.Update{
		TableName:           aws.String(s.Table),
		Key:                 batchKey(batchID),
		UpdateExpression:    aws.String("SET remaining = remaining - :one ADD #c :one"),
		ConditionExpression: aws.String("#s = :running AND remaining > :one"),
		ExpressionAttributeNames: map[string]string{
			"#s": "status", "#c": counter,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":running": str(string(StatusRunning)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	old, err := s.transact(ctx, put, notLast)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, errBatchCondition) {
		return false, fmt.Errorf("record subtask %s of batch %s: %w", r.ItemID, batchID, err)
	}
	var b Batch
	if err := attributevalue.UnmarshalMap(old, &b); err != nil || b.Status != StatusRunning || b.Remaining != 1 {
		return false, ErrBatchClosed
	}

	lastUpdate := &types.Update{
		TableName:           aws.String(s.Table),
		Key:                 batchKey(batchID),
		UpdateExpression:    aws.String("SET remaining = :zero, #s = :aggregating ADD #c :one"),
		ConditionExpression: aws.String("#s = :running AND remaining = :one"),
		ExpressionAttributeNames: map[string]string{
			"#s": "status", "#c": counter,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":zero": num(0),
			":running": str(string(StatusRunning)), ":aggregating": str(string(StatusAggregating)),
		},
	}
	if _, err := s.transact(ctx, put, lastUpdate); err != nil {
		if errors.Is(err, errBatchCondition) {
			return false, ErrBatchClosed
		}
		return false, fmt.Errorf("record last subtask %s of batch %s: %w", r.ItemID, batchID, err)
	}
	return true, nil
}

// RecordAll stores several results of one batch and counts them on the batch, atomically, in one
// transaction: every result's Put, conditioned on it not being there yet, and one update of the
// batch record that counts them all, conditioned on the batch RUNNING with more subtasks remaining
// than there are results. That condition means a group never finishes a batch, so the rule that
// makes the last subtask's transaction the only one to see last == true stays Record's alone.
//
// It records nothing and returns ErrRecordOneByOne when any condition fails (a result is already
// there; the results would finish the batch; the batch no longer takes results) or when an item
// appears twice (a transaction takes an item once): Record, one result at a time, sorts each of
// those out as it always has. The common case, every result new and the batch far from done, costs
// one transaction on the batch record for the group instead of one per result.
func (s DynamoStore) RecordAll(ctx context.Context, batchID string, results []SubtaskResult) error {
	if len(results) > maxGroup {
		return fmt.Errorf("record %d subtasks of batch %s together: at most %d: %w", len(results), batchID, maxGroup, ErrRecordOneByOne)
	}
	items := make([]types.TransactWriteItem, 0, len(results)+1)
	seen := make(map[string]bool, len(results))
	var completed, failed int64
	for _, r := range results {
		if seen[r.ItemID] {
			return fmt.Errorf("record subtask %s of batch %s twice in one transaction: %w", r.ItemID, batchID, ErrRecordOneByOne)
		}
		seen[r.ItemID] = true
		put, err := s.subtaskPut(batchID, r)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: put})
		if r.Status == SubtaskFailed {
			failed++
		} else {
			completed++
		}
	}
	items = append(items, types.TransactWriteItem{Update: &types.Update{
		TableName:           aws.String(s.Table),
		Key:                 batchKey(batchID),
		UpdateExpression:    aws.String("SET remaining = remaining - :n ADD #c :completed, #f :failed"),
		ConditionExpression: aws.String("#s = :running AND remaining > :n"),
		ExpressionAttributeNames: map[string]string{
			"#s": "status", "#c": "completed", "#f": "failed",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(int64(len(results))), ":completed": num(completed), ":failed": num(failed),
			":running": str(string(StatusRunning)),
		},
	}})
	reasons, err := s.transactWrite(ctx, items)
	switch {
	case err == nil:
		return nil
	case conditionFailed(reasons):
		return ErrRecordOneByOne
	default:
		return fmt.Errorf("record %d subtasks of batch %s together: %w", len(results), batchID, err)
	}
}

// maxGroup is the most results RecordAll takes: a transaction holds up to 100 items, and one of
// them is the batch record.
const maxGroup = 99

// errBatchCondition is the batch update's condition failing inside transact.
var errBatchCondition = errors.New("batch condition failed")

// transact writes put and update in one transaction. It returns ErrDuplicate when put's condition
// failed, errBatchCondition (and the batch as it was) when update's did, and tries again, with
// jittered back-off, when a concurrent transaction on the same batch record got in the way.
func (s DynamoStore) transact(ctx context.Context, put *types.Put, update *types.Update) (map[string]types.AttributeValue, error) {
	reasons, err := s.transactWrite(ctx, []types.TransactWriteItem{{Put: put}, {Update: update}})
	switch {
	case err == nil:
		return nil, nil
	case len(reasons) == 2 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed":
		return nil, ErrDuplicate
	case len(reasons) == 2 && aws.ToString(reasons[1].Code) == "ConditionalCheckFailed":
		return reasons[1].Item, errBatchCondition
	}
	return nil, err
}

// transactWrite runs one TransactWriteItems, trying again, with jittered back-off, while a
// concurrent transaction holds one of its items, for up to the store's ConflictPatience. A
// transaction cancelled for any other reason comes back with its cancellation reasons, one per
// item, for the caller to read.
func (s DynamoStore) transactWrite(ctx context.Context, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		callCtx, cancel := s.Calls.Context(ctx)
		_, err := s.DB.TransactWriteItems(callCtx, in)
		cancel()
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return nil, err
		}
		reasons := canceled.CancellationReasons
		if conditionFailed(reasons) || !conflicted(reasons) || !s.backOff(ctx, start, attempt) {
			return reasons, err
		}
	}
}

// backOff pauses before attempt+1 of a write that met a concurrent transaction, and reports
// whether to make it: not when the pause would take the write past its patience, counted from
// start, or past the invocation's budget, nor when ctx ends first. Every worker writes the one
// batch record, so writes to it meet under load; a short random pause, growing with the attempt,
// spreads the attempts out.
func (s DynamoStore) backOff(ctx context.Context, start time.Time, attempt int) bool {
	pause := time.Duration(rand.Int64N(int64(backOffCeiling(attempt))))
	if time.Since(start)+pause > cmp.Or(s.ConflictPatience, DefaultConflictPatience) || pause >= s.Calls.Budget.Remaining(ctx) {
		return false
	}
	select {
	case <-time.After(pause):
		return true
	case <-ctx.Done():
		return false
	}
}

// backOffCeiling is the longest pause before attempt+1: 10 ms after the first attempt, doubling up
// to 160 ms, which keeps a writer coming back often enough to find the item free.
func backOffCeiling(attempt int) time.Duration {
	return 5 * time.Millisecond << min(attempt, 5)
}

// conditionFailed reports whether a transaction was cancelled because one of its conditions failed.
func conditionFailed(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

func conflicted(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == "TransactionConflict" {
			return true
		}
	}
	return false
}

func (s DynamoStore) subtaskPut(batchID string, r SubtaskResult) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return nil, fmt.Errorf("marshal subtask %s of batch %s: %w", r.ItemID, batchID, err)
	}
	item["batchId"] = str(batchID)
	item["sk"] = str(subtaskSKPre + r.ItemID)
	item["expiresAt"] = num(r.FinishedAt.Add(cmp.Or(s.RetentionFor, 7*24*time.Hour)).Unix())
	return &types.Put{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(sk)"),
	}, nil
}

// Results calls fn for every subtask result of the batch, reading the partition page by page
// (1 MB each) with strongly consistent reads, so a 10,000-item batch works like a 10-item one.
func (s DynamoStore) Results(ctx context.Context, batchID string, fn func(SubtaskResult) error) error {
	pages := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("batchId = :id AND begins_with(sk, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": str(batchID), ":pre": str(subtaskSKPre),
		},
		ConsistentRead: aws.Bool(true),
	})
	for page := 1; pages.HasMorePages(); page++ {
		callCtx, cancel := s.Calls.Context(ctx)
		out, err := pages.NextPage(callCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("query results of batch %s, page %d: %w", batchID, page, err)
		}
		for _, item := range out.Items {
			var r SubtaskResult
			if err := attributevalue.UnmarshalMap(item, &r); err != nil {
				return fmt.Errorf("unmarshal a result of batch %s: %w", batchID, err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Finish moves an AGGREGATING batch to status (SUCCEEDED or COMPLETED_WITH_ERRORS) with its result;
// ErrConflict if it is not AGGREGATING (another sink run finished it, or it FAILED past its deadline).
func (s DynamoStore) Finish(ctx context.Context, id string, status Status, result Result, now time.Time) error {
	av, err := attributevalue.Marshal(result)
	if err != nil {
		return fmt.Errorf("marshal result of batch %s: %w", id, err)
	}
	return s.update(ctx, id, "finish", &dynamodb.UpdateItemInput{
		UpdateExpression:         aws.String("SET #s = :status, #r = :result, finishedAt = :now"),
		ConditionExpression:      aws.String("#s = :aggregating"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#r": "result"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(string(status)), ":result": av, ":now": timeAV(now),
			":aggregating": str(string(StatusAggregating)),
		},
	})
}

// FailInterrupted marks FAILED a batch whose fan-out stopped part-way and was not resumed by its
// PublishBy; ErrConflict if that is not (or no longer) the case.
func (s DynamoStore) FailInterrupted(ctx context.Context, id string, failure Failure, now time.Time) error {
	return s.fail(ctx, id, failure, now,
		"#s = :running AND published < #total AND publishBy < :nowUnix",
		map[string]types.AttributeValue{":running": str(string(StatusRunning))})
}

// FailExpired marks FAILED a batch that is not done by its deadline; ErrConflict otherwise.
func (s DynamoStore) FailExpired(ctx context.Context, id string, failure Failure, now time.Time) error {
	return s.fail(ctx, id, failure, now,
		"#s IN (:running, :aggregating) AND deadline < :nowUnix",
		map[string]types.AttributeValue{
			":running": str(string(StatusRunning)), ":aggregating": str(string(StatusAggregating)),
		})
}

func (s DynamoStore) fail(ctx context.Context, id string, failure Failure, now time.Time, cond string, values map[string]types.AttributeValue) error {
	av, err := attributevalue.Marshal(failure)
	if err != nil {
		return fmt.Errorf("marshal failure of batch %s: %w", id, err)
	}
	names := map[string]string{"#s": "status"}
	if strings.Contains(cond, "#total") {
		names["#total"] = "total" // a reserved word
	}
	values[":failed"] = str(string(StatusFailed))
	values[":failure"] = av
	values[":now"] = timeAV(now)
	values[":nowUnix"] = num(now.Unix())
	return s.update(ctx, id, "fail", &dynamodb.UpdateItemInput{
		UpdateExpression:          aws.String("SET #s = :failed, failure = :failure, finishedAt = :now"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
}

// update runs one conditional UpdateItem on the batch record; a failed condition is ErrConflict.
//
// Workers hold the batch record in transactions all through a batch's life, and on AWS a plain
// write to an item a transaction is holding is refused with TransactionConflictException, which
// the SDK's retryer does not retry. The ventilator's cursor, the sink's final write and the
// FAILED transitions all come through here, so it tries again, as transactWrite does, for up to
// the store's ConflictPatience.
func (s DynamoStore) update(ctx context.Context, id, doing string, in *dynamodb.UpdateItemInput) error {
	in.TableName = aws.String(s.Table)
	in.Key = batchKey(id)
	start := time.Now()
	for attempt := 1; ; attempt++ {
		callCtx, cancel := s.Calls.Context(ctx)
		_, err := s.DB.UpdateItem(callCtx, in)
		cancel()
		if err == nil {
			return nil
		}
		var held *types.TransactionConflictException
		if !errors.As(err, &held) || !s.backOff(ctx, start, attempt) {
			if attempt > 1 {
				err = fmt.Errorf("attempt %d: %w", attempt, err)
			}
			return fmt.Errorf("%s batch %s: %w", doing, id, conflictOr(err))
		}
	}
}

func unmarshalBatch(id string, item map[string]types.AttributeValue) (Batch, error) {
	var b Batch
	if err := attributevalue.UnmarshalMap(item, &b); err != nil {
		return Batch{}, fmt.Errorf("unmarshal batch %s: %w", id, err)
	}
	return b, nil
}

func batchKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"batchId": str(id), "sk": str(batchSK)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// timeAV encodes t as attributevalue does for a time.Time field (RFC 3339 with nanoseconds).
func timeAV(t time.Time) types.AttributeValue {
	return str(t.UTC().Format(time.RFC3339Nano))
}

// conflictOr turns a failed condition into ErrConflict (a lost race, not an outage).
func conflictOr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrConflict
	}
	return err
}
