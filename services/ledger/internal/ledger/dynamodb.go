package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

// DynamoDBAPI is the part of the DynamoDB client the store calls.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps an account's events in EventsTable (partition key accountId, sort key
// version), its snapshots in SnapshotsTable (the same keys: "latest snapshot" is one Query, newest
// first, Limit 1) and command receipts in ReceiptsTable (partition key id, TTL on expiresAt).
type DynamoStore struct {
	DB             DynamoDBAPI
	EventsTable    string
	SnapshotsTable string
	ReceiptsTable  string
	// Tail is how many of the newest events Load reads alongside the latest snapshot;
	// DefaultTail when 0. A snapshot is at most SnapshotEvery−1 events behind, so a Tail of
	// SnapshotEvery−1 makes every load one round trip; a smaller one costs a second round trip
	// when more events than Tail follow the snapshot, never a wrong state.
	Tail int
	// Calls bounds each call by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// DefaultTail suits SNAPSHOT_EVERY's default of 10: a snapshot is at most 9 events behind.
const DefaultTail = 9

// Load rebuilds the account from its latest snapshot and the events after it (strongly
// consistent, so a command decides on the latest version), in one round trip: two Queries at
// once, the latest snapshot and the newest Tail events. The snapshot cannot say which events
// follow it before it has been read, so the events Query reads the newest ones and keeps those
// after the snapshot. Only when they do not reach back to it (more than Tail events since the
// snapshot) does a third Query read the gap. With snapshots every Tail+1 events it reads at most
// Tail+1 items, whatever the history.
func (s DynamoStore) Load(ctx context.Context, accountID string) (Loaded, error) {
	var (
		wg                   sync.WaitGroup
		snapshot             Account
		snapshotRead         bool
		newest               []Event
		snapshotErr, tailErr error
	)
	wg.Go(func() { snapshot, snapshotRead, snapshotErr = s.latestSnapshot(ctx, accountID) })
	wg.Go(func() { newest, tailErr = s.newestEvents(ctx, accountID, s.tail()) })
	wg.Wait()
	if err := errors.Join(snapshotErr, tailErr); err != nil {
		return Loaded{}, err
	}
	loaded := Loaded{Account: snapshot, ItemsRead: len(newest)}
	if snapshotRead {
		loaded.ItemsRead++
	}
	// newest is newest first; the events after the snapshot are its head. A snapshot written
	// after the events Query ran (a concurrent append) is newer than all of them: none is kept.
	var after []Event
	for _, e := range newest {
		if e.Version <= snapshot.Version {
			break
		}
		after = append(after, e)
	}
	slices.Reverse(after)
	if len(after) > 0 && after[0].Version > snapshot.Version+1 {
		gap, err := s.Events(ctx, accountID, snapshot.Version, int(after[0].Version-snapshot.Version-1))
		if err != nil {
			return Loaded{}, err
		}
		loaded.ItemsRead += len(gap)
		after = append(gap, after...)
	}
	var err error
	if loaded.Account, err = Replay(snapshot, after); err != nil {
		return Loaded{}, err
	}
	if loaded.Account.Version == 0 {
		return Loaded{}, ErrNotFound
	}
	return loaded, nil
}

func (s DynamoStore) tail() int {
	if s.Tail > 0 {
		return s.Tail
	}
	return DefaultTail
}

// latestSnapshot reads the account's newest snapshot; found is false when it has none yet.
func (s DynamoStore) latestSnapshot(ctx context.Context, accountID string) (a Account, found bool, err error) {
	items, err := queryPages(ctx, s.DB, s.Calls, &dynamodb.QueryInput{
		TableName:                 aws.String(s.SnapshotsTable),
		KeyConditionExpression:    aws.String("accountId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(accountID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	}, 1)
	if err != nil {
		return Account{}, false, fmt.Errorf("load snapshot of account %s: %w", accountID, err)
	}
	if len(items) == 0 {
		return Account{}, false, nil
	}
	if err := attributevalue.UnmarshalMap(items[0], &a); err != nil {
		return Account{}, false, fmt.Errorf("unmarshal snapshot of account %s: %w", accountID, err)
	}
	return a, true, nil
}

// newestEvents returns the account's last n events, newest first.
func (s DynamoStore) newestEvents(ctx context.Context, accountID string, n int) ([]Event, error) {
	items, err := queryPages(ctx, s.DB, s.Calls, &dynamodb.QueryInput{
		TableName:                 aws.String(s.EventsTable),
		KeyConditionExpression:    aws.String("accountId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(accountID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(n)),
		ConsistentRead:            aws.Bool(true),
	}, n)
	if err != nil {
		return nil, fmt.Errorf("query newest events of account %s: %w", accountID, err)
	}
	events := make([]Event, len(items))
	if err := attributevalue.UnmarshalListOfMaps(items, &events); err != nil {
		return nil, fmt.Errorf("unmarshal events of account %s: %w", accountID, err)
	}
	return events, nil
}

// Events returns up to limit events (0: all) after version after, oldest first.
func (s DynamoStore) Events(ctx context.Context, accountID string, after int64, limit int) ([]Event, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.EventsTable),
		KeyConditionExpression: aws.String("accountId = :id AND version > :after"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": str(accountID), ":after": num(after),
		},
		ConsistentRead: aws.Bool(true),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit))
	}
	items, err := queryPages(ctx, s.DB, s.Calls, in, limit)
	if err != nil {
		return nil, fmt.Errorf("query events of account %s after %d: %w", accountID, after, err)
	}
	events := make([]Event, len(items))
	if err := attributevalue.UnmarshalListOfMaps(items, &events); err != nil {
		return nil, fmt.Errorf("unmarshal events of account %s: %w", accountID, err)
	}
	return events, nil
}

// Owner reads the account's first event, which every account has and which names its owner.
func (s DynamoStore) Owner(ctx context.Context, accountID string) (string, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.EventsTable),
		Key:                      map[string]types.AttributeValue{"accountId": str(accountID), "version": num(1)},
		ProjectionExpression:     aws.String("#o"),
		ExpressionAttributeNames: map[string]string{"#o": "owner"},
		// Strongly consistent: a GET of an account's events right after its 201 must not
		// read a replica that has not seen the opening yet and answer 404.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("get owner of account %s: %w", accountID, err)
	}
	owner, ok := out.Item["owner"].(*types.AttributeValueMemberS)
	if !ok {
		return "", ErrNotFound
	}
	return owner.Value, nil
}

// querier is the one DynamoDB call queryPages makes; DynamoDBAPI and ReadModelAPI both have it.
type querier interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// queryPages runs in and follows DynamoDB's pages (LastEvaluatedKey) until limit items (0: all)
// are read, each call bounded by calls. Every Query in the package goes through it (events,
// snapshots, the accounts read model), so an API page is never cut short by DynamoDB's 1 MB
// response limit.
func queryPages(ctx context.Context, db querier, calls budget.Calls, in *dynamodb.QueryInput, limit int) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		callCtx, cancel := calls.Context(ctx)
		out, err := db.Query(callCtx, in)
		cancel()
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil || (limit > 0 && len(items) >= limit) {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - len(items)))
		}
	}
}

// trimPage cuts items, read with a limit of limit+1, to a page of at most limit and says whether
// more follow: the extra item answers "is there a next page?" without a second read.
func trimPage[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

// Append writes the event only if its version is new. With a snapshot or a receipt, all of them
// go in one transaction: a snapshot never exists without its event, nor a receipt without the
// effect it records, nor the effect without its receipt.
//
// The SDK retries a write whose answer was lost (a timeout, a 500) although DynamoDB may have
// applied it; the retry then finds the version taken. A version taken by an event with
// a.Event.CommandID is this very write, so Append reports success, not a conflict: the failed
// condition returns the existing item (ALL_OLD), and where DynamoDB returns none (a
// transaction conflict) a consistent read of the version says whose it is. Transactions also
// carry a.Token as ClientRequestToken, which makes DynamoDB answer a retry within 10 minutes
// with the first try's success.
func (s DynamoStore) Append(ctx context.Context, a Append) error {
	event, err := attributevalue.MarshalMap(a.Event)
	if err != nil {
		return fmt.Errorf("marshal event: %w", err)
	}
	if a.Snapshot == nil && a.Receipt == nil {
		return s.putEvent(ctx, a.Event, event)
	}
	return s.transactEvent(ctx, a, event)
}

// newVersion is the condition on every event write: its version is not taken yet.
const newVersion = "attribute_not_exists(version)"

// putEvent writes an event alone, with one conditional PutItem.
func (s DynamoStore) putEvent(ctx context.Context, e Event, item map[string]types.AttributeValue) error {
	callCtx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err := s.DB.PutItem(callCtx, &dynamodb.PutItemInput{
		TableName: aws.String(s.EventsTable), Item: item, ConditionExpression: aws.String(newVersion),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return s.conflict(ctx, e, failed.Item)
	}
	// A concurrent transaction on the same key (one writing this version with a snapshot)
	// is a lost race like a failed condition, unless the key holds this write already.
	if _, ok := errors.AsType[*types.TransactionConflictException](err); ok {
		return s.conflict(ctx, e, nil)
	}
	return err
}

// transactEvent writes an event with its snapshot and/or receipt in one transaction, and turns
// a cancelled transaction into what it means for the command (see classifyCancellation).
func (s DynamoStore) transactEvent(ctx context.Context, a Append, event map[string]types.AttributeValue) error {
	items, receiptAt, err := s.transactItems(a, event)
	if err != nil {
		return err
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if a.Token != "" {
		in.ClientRequestToken = aws.String(a.Token)
	}
	callCtx, cancel := s.Calls.Context(ctx)
	defer cancel()
	_, err = s.DB.TransactWriteItems(callCtx, in)
	canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok {
		return err
	}
	c := classifyCancellation(canceled.CancellationReasons, a.Event, receiptAt)
	if c.applied {
		return nil
	}
	if c.askWhoWrote {
		if mine, rerr := s.written(ctx, a.Event); rerr != nil || mine {
			return rerr
		}
	}
	if c.err != nil {
		return c.err
	}
	return err
}

// transactItems returns the transaction's writes: the event first, then the snapshot and the
// receipt when there are; receiptAt is the receipt's index, -1 without one.
func (s DynamoStore) transactItems(a Append, event map[string]types.AttributeValue) (items []types.TransactWriteItem, receiptAt int, err error) {
	items = []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.EventsTable), Item: event, ConditionExpression: aws.String(newVersion),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	if a.Snapshot != nil {
		snap, err := attributevalue.MarshalMap(a.Snapshot)
		if err != nil {
			return nil, 0, fmt.Errorf("marshal snapshot: %w", err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.SnapshotsTable), Item: snap}})
	}
	receiptAt = -1
	if a.Receipt != nil {
		receipt, err := attributevalue.MarshalMap(a.Receipt)
		if err != nil {
			return nil, 0, fmt.Errorf("marshal receipt: %w", err)
		}
		receiptAt = len(items)
		// An expired receipt that TTL has not deleted yet counts as absent.
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.ReceiptsTable), Item: receipt,
			ConditionExpression:       aws.String("attribute_not_exists(id) OR expiresAt < :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(a.Event.At.Unix())},
		}})
	}
	return items, receiptAt, nil
}

// cancellation is what a cancelled append transaction means for the command that sent it.
type cancellation struct {
	// applied: the event's version holds this command's own event (an earlier try of this
	// write was applied, whole): the append succeeded.
	applied bool
	// askWhoWrote: the event's write met a concurrent transaction, which returns no item; only a
	// read of the version can tell this command's own write from another writer's.
	askWhoWrote bool
	// err is the answer when neither of the above makes it a success: ErrDuplicateCommand (the
	// receipt exists: the command was answered before), ErrVersionConflict (another writer got
	// the version, or a concurrent transaction got in the way), or nil (no condition or conflict
	// explains the cancellation: the SDK's error stands).
	err error
}

// classifyCancellation reads the reasons DynamoDB gives for cancelling an append transaction,
// one per item in the order they were sent (the event first; the receipt at receiptAt, -1 when
// there is none), as a decision about e. It reads nothing: an event reason of
// TransactionConflict is answered with askWhoWrote, for the caller to read.
func classifyCancellation(reasons []types.CancellationReason, e Event, receiptAt int) cancellation {
	var c cancellation
	// The event is checked first: when it is this write's own, the transaction was applied
	// whole, receipt included, and the receipt's failed condition is that same write.
	if len(reasons) > 0 {
		switch aws.ToString(reasons[0].Code) {
		case "ConditionalCheckFailed":
			c.applied = ownEvent(e, reasons[0].Item)
		case "TransactionConflict":
			c.askWhoWrote = true
		}
	}
	switch {
	case receiptAt >= 0 && receiptAt < len(reasons) && aws.ToString(reasons[receiptAt].Code) == "ConditionalCheckFailed":
		c.err = ErrDuplicateCommand
	case slices.ContainsFunc(reasons, lostRace):
		c.err = ErrVersionConflict
	}
	return c
}

// lostRace reports whether r is a failed condition or a concurrent transaction on the same
// items: either is a race lost to another writer.
func lostRace(r types.CancellationReason) bool {
	code := aws.ToString(r.Code)
	return code == "ConditionalCheckFailed" || code == "TransactionConflict"
}

// conflict answers a put of e that found its version taken (old is the item there, nil when
// DynamoDB did not return it): success when the item is e's own command's, else ErrVersionConflict.
func (s DynamoStore) conflict(ctx context.Context, e Event, old map[string]types.AttributeValue) error {
	if old == nil {
		mine, err := s.written(ctx, e)
		if err != nil || mine {
			return err
		}
		return ErrVersionConflict
	}
	if ownEvent(e, old) {
		return nil
	}
	return ErrVersionConflict
}

// written reads e's version (strongly consistent) and says whether e's command wrote it.
func (s DynamoStore) written(ctx context.Context, e Event) (bool, error) {
	if e.CommandID == "" {
		return false, nil
	}
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.EventsTable),
		Key:                      map[string]types.AttributeValue{"accountId": str(e.AccountID), "version": num(e.Version)},
		ProjectionExpression:     aws.String("#c"),
		ExpressionAttributeNames: map[string]string{"#c": "commandId"},
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("check who wrote version %d of account %s: %w", e.Version, e.AccountID, err)
	}
	return ownEvent(e, out.Item), nil
}

// ownEvent says whether item, the stored event at e's version, was written by e's command.
func ownEvent(e Event, item map[string]types.AttributeValue) bool {
	id, ok := item["commandId"].(*types.AttributeValueMemberS)
	return ok && e.CommandID != "" && id.Value == e.CommandID
}

// Receipt reads a receipt; one past its expiry is treated as absent.
func (s DynamoStore) Receipt(ctx context.Context, id string, now time.Time) (Receipt, bool, error) {
	ctx, cancel := s.Calls.Context(ctx)
	defer cancel()
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.ReceiptsTable), Key: map[string]types.AttributeValue{"id": str(id)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Receipt{}, false, fmt.Errorf("get receipt %s: %w", id, err)
	}
	if out.Item == nil {
		return Receipt{}, false, nil
	}
	var r Receipt
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return Receipt{}, false, fmt.Errorf("unmarshal receipt %s: %w", id, err)
	}
	if r.ExpiresAt.Before(now) {
		return Receipt{}, false, nil
	}
	return r, true, nil
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
