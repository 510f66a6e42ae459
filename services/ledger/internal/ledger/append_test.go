package ledger

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

// writeTwice is a DynamoDBAPI that sends each write twice, the second time without the
// caller's ClientRequestToken (the SDK fills in a new one): a retry that DynamoDB cannot match
// to the first try, as after the token's 10 minutes, so only the ALL_OLD item can tell.
type writeTwice struct {
	DynamoDBAPI
	twice int
}

func (w *writeTwice) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := w.DynamoDBAPI.PutItem(ctx, in, optFns...); err != nil {
		return nil, err
	}
	w.twice++
	return w.DynamoDBAPI.PutItem(ctx, in, optFns...)
}

func (w *writeTwice) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if _, err := w.DynamoDBAPI.TransactWriteItems(ctx, in, optFns...); err != nil {
		return nil, err
	}
	w.twice++
	again := *in
	again.ClientRequestToken = nil
	return w.DynamoDBAPI.TransactWriteItems(ctx, &again, optFns...)
}

// TestRetriedWriteWhoseAnswerWasLostAppliesOnce withdraws 100 from 1000 on DynamoDB Local while
// the answer to the write is lost and the write is retried: the retry finds the version taken
// by the command's own event, which must count as done, not as a race to decide again.
func TestRetriedWriteWhoseAnswerWasLostAppliesOnce(t *testing.T) {
	tests := []struct {
		name          string
		target        string // the write whose answer is lost; "" to send each write twice
		snapshotEvery int64
		req           Request
	}{
		{"SDK retry of a plain put", "DynamoDB_20120810.PutItem", 10, Request{}},
		{"SDK retry of a transaction with a snapshot", "DynamoDB_20120810.TransactWriteItems", 3, Request{}},
		{"SDK retry of a transaction with a receipt", "DynamoDB_20120810.TransactWriteItems", 10, Request{IdempotencyKey: "k", Fingerprint: "withdraw 100"}},
		{"plain put sent twice", "", 10, Request{}},
		{"transaction with a snapshot sent twice", "", 3, Request{}},
		{"transaction with a receipt sent twice", "", 10, Request{IdempotencyKey: "k", Fingerprint: "withdraw 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, db := newDynamoStore(t)
			l := realLedger(store, tt.snapshotEvery)
			ctx := context.Background()
			id := openWith(t, l, 1000) // versions 1, 2

			var lossy *dynamotest.LoseFirstAnswer
			twice := &writeTwice{DynamoDBAPI: db}
			if tt.target != "" {
				store.DB, lossy = dynamotest.LosingFirstAnswer(db.Client, tt.target)
			} else {
				store.DB = twice
			}
			l.Store = store

			res, err := l.Move(ctx, "alice", id, Withdrawn, 100, tt.req)
			if err != nil {
				t.Fatalf("Move() = %v, want success", err)
			}
			events := allEvents(t, store, id)
			if len(events) != 3 {
				t.Errorf("events = %d, want 3: one withdrawal appended %d events", len(events), len(events)-2)
			} else if after := events[2].BalanceAfter; after == nil || *after != 900 {
				t.Errorf("withdrawal's balanceAfter = %v, want 900", after)
			}
			acct, err := l.Get(ctx, "alice", id)
			if err != nil {
				t.Fatal(err)
			}
			want := Account{ID: id, Owner: "alice", Balance: 900, Version: 3}
			if acct != want || res.Account != want {
				t.Errorf("account = %+v, answer = %+v; want %+v", acct, res.Account, want)
			}
			if tt.target != "" {
				if lost, requests := lossy.Counts(); lost != 1 || requests != 2 {
					t.Errorf("answers lost %d of %d writes, want 1 of 2: the write was not retried once", lost, requests)
				}
			}
			if tt.target == "" && twice.twice != 1 {
				t.Errorf("writes sent twice = %d, want 1", twice.twice)
			}
		})
	}
}

// fakeDB is a DynamoDBAPI whose answers the test sets; it records the GetItem inputs.
type fakeDB struct {
	putItem  func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	transact func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	getItem  func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	gets     []*dynamodb.GetItemInput
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets = append(f.gets, in)
	return f.getItem(in)
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return f.putItem(in)
}

func (f *fakeDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errors.New("fakeDB: no Query")
}

func (f *fakeDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return f.transact(in)
}

// eventItem is the stored event at the contested version, written by command.
func eventItem(command string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"accountId": str("a1"), "version": num(3), "commandId": str(command)}
}

func TestAppendTellsItsOwnWriteFromALostRace(t *testing.T) {
	e := Event{AccountID: "a1", Version: 3, Type: Withdrawn, Amount: 100, Owner: "alice", At: t0, CommandID: "cmd-1"}
	snap := &Account{ID: "a1", Owner: "alice", Balance: 900, Version: 3}
	found := func(command string) func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{Item: eventItem(command)}, nil
		}
	}
	canceled := func(code string, item map[string]types.AttributeValue) func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		return func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			return nil, &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
				{Code: aws.String(code), Item: item}, {Code: aws.String("None")},
			}}
		}
	}
	putFails := func(err error) func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, err }
	}
	tests := []struct {
		name string
		a    Append
		db   fakeDB
		want error
	}{
		{"put: condition failed on our own event", Append{Event: e},
			fakeDB{putItem: putFails(&types.ConditionalCheckFailedException{Item: eventItem("cmd-1")})}, nil},
		{"put: condition failed on another command's event", Append{Event: e},
			fakeDB{putItem: putFails(&types.ConditionalCheckFailedException{Item: eventItem("cmd-2")})}, ErrVersionConflict},
		{"put: transaction conflict, version is another's", Append{Event: e},
			fakeDB{putItem: putFails(&types.TransactionConflictException{}), getItem: found("cmd-2")}, ErrVersionConflict},
		{"put: transaction conflict, version still free", Append{Event: e},
			fakeDB{putItem: putFails(&types.TransactionConflictException{}), getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				return &dynamodb.GetItemOutput{}, nil
			}}, ErrVersionConflict},
		{"put: transaction conflict, version is ours", Append{Event: e},
			fakeDB{putItem: putFails(&types.TransactionConflictException{}), getItem: found("cmd-1")}, nil},
		{"transaction: condition failed on our own event", Append{Event: e, Snapshot: snap},
			fakeDB{transact: canceled("ConditionalCheckFailed", eventItem("cmd-1"))}, nil},
		{"transaction: condition failed on another command's event", Append{Event: e, Snapshot: snap},
			fakeDB{transact: canceled("ConditionalCheckFailed", eventItem("cmd-2"))}, ErrVersionConflict},
		{"transaction: conflict, version is ours", Append{Event: e, Snapshot: snap},
			fakeDB{transact: canceled("TransactionConflict", nil), getItem: found("cmd-1")}, nil},
		{"transaction: conflict, version is another's", Append{Event: e, Snapshot: snap},
			fakeDB{transact: canceled("TransactionConflict", nil), getItem: found("cmd-2")}, ErrVersionConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := DynamoStore{DB: &tt.db, EventsTable: "events", SnapshotsTable: "snapshots", ReceiptsTable: "receipts"}
			if err := store.Append(context.Background(), tt.a); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Append() = %v, want %v", err, tt.want)
			}
			for _, in := range tt.db.gets {
				if !aws.ToBool(in.ConsistentRead) {
					t.Errorf("GetItem of the contested version was not strongly consistent")
				}
			}
		})
	}
}

func TestAppendAsksForTheExistingItemAndSendsItsToken(t *testing.T) {
	e := Event{AccountID: "a1", Version: 3, Type: Withdrawn, Amount: 100, Owner: "alice", At: t0, CommandID: "cmd-1"}
	var put *dynamodb.PutItemInput
	var tx *dynamodb.TransactWriteItemsInput
	db := &fakeDB{
		putItem: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			put = in
			return &dynamodb.PutItemOutput{}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			tx = in
			return &dynamodb.TransactWriteItemsOutput{}, nil
		},
	}
	store := DynamoStore{DB: db, EventsTable: "events", SnapshotsTable: "snapshots"}
	ctx := context.Background()
	if err := store.Append(ctx, Append{Event: e, Token: "cmd-1-1"}); err != nil {
		t.Fatal(err)
	}
	if got := put.ReturnValuesOnConditionCheckFailure; got != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("PutItem ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", got)
	}
	if got, ok := put.Item["commandId"].(*types.AttributeValueMemberS); !ok || got.Value != "cmd-1" {
		t.Errorf("event item commandId = %v, want cmd-1", put.Item["commandId"])
	}
	if err := store.Append(ctx, Append{Event: e, Snapshot: &Account{ID: "a1", Version: 3}, Token: "cmd-1-1"}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(tx.ClientRequestToken); got != "cmd-1-1" {
		t.Errorf("ClientRequestToken = %q, want cmd-1-1", got)
	}
	if got := tx.TransactItems[0].Put.ReturnValuesOnConditionCheckFailure; got != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("event Put ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", got)
	}
}

func TestMoveWritesOneCommandIDWithAFreshTokenPerAttempt(t *testing.T) {
	store := &recordingStore{memStore: newMemStore()}
	l := newLedger(store, nil)
	l.SnapshotEvery = 0
	id := openWith(t, l, 100)
	store.writes = nil
	store.conflicts = 2
	if _, err := l.Move(context.Background(), "alice", id, Withdrawn, 30, Request{}); err != nil {
		t.Fatalf("Move() = %v, want success on the third attempt", err)
	}
	if len(store.writes) != 3 {
		t.Fatalf("writes = %d, want 3", len(store.writes))
	}
	command := store.writes[0].Event.CommandID
	tokens := map[string]bool{}
	for i, w := range store.writes {
		if command == "" || w.Event.CommandID != command {
			t.Errorf("write %d has command ID %q, want %q on every attempt", i, w.Event.CommandID, command)
		}
		tokens[w.Token] = true
	}
	if len(tokens) != 3 {
		t.Errorf("tokens = %v, want 3 different: a token reused with another write is refused", tokens)
	}
}

// recordingStore records every Append it is asked for.
type recordingStore struct {
	*memStore
	writes []Append
}

func (r *recordingStore) Append(ctx context.Context, a Append) error {
	r.writes = append(r.writes, a)
	return r.memStore.Append(ctx, a)
}

func TestOwnerReadsConsistently(t *testing.T) {
	db := &fakeDB{getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"owner": str("alice")}}, nil
	}}
	store := DynamoStore{DB: db, EventsTable: "events"}
	owner, err := store.Owner(context.Background(), "a1")
	if err != nil || owner != "alice" {
		t.Fatalf("Owner() = %q, %v; want alice", owner, err)
	}
	if len(db.gets) != 1 || !aws.ToBool(db.gets[0].ConsistentRead) {
		t.Errorf("GetItem ConsistentRead = %v, want true: a read right after the 201 could miss the account", db.gets[0].ConsistentRead)
	}
}

// TestClassifyCancellation reads every shape of cancelled append transaction: which item's
// condition failed, with whose item, or which met a concurrent transaction.
func TestClassifyCancellation(t *testing.T) {
	e := Event{AccountID: "a1", Version: 7, CommandID: "cmd-1"}
	none := types.CancellationReason{Code: aws.String("None")}
	conflict := types.CancellationReason{Code: aws.String("TransactionConflict")}
	failed := types.CancellationReason{Code: aws.String("ConditionalCheckFailed")}
	takenBy := func(commandID string) types.CancellationReason {
		r := failed
		if commandID != "" {
			r.Item = map[string]types.AttributeValue{"commandId": str(commandID)}
		}
		return r
	}
	tests := []struct {
		name      string
		reasons   []types.CancellationReason
		receiptAt int
		event     Event
		want      cancellation
	}{
		{name: "version taken by this command (an earlier try applied)", reasons: []types.CancellationReason{takenBy("cmd-1"), none}, receiptAt: -1, event: e,
			want: cancellation{applied: true, err: ErrVersionConflict}},
		{name: "version and receipt taken by this command", reasons: []types.CancellationReason{takenBy("cmd-1"), failed}, receiptAt: 1, event: e,
			want: cancellation{applied: true, err: ErrDuplicateCommand}},
		{name: "version taken by another command", reasons: []types.CancellationReason{takenBy("cmd-2"), none}, receiptAt: -1, event: e,
			want: cancellation{err: ErrVersionConflict}},
		{name: "version taken, no item returned", reasons: []types.CancellationReason{takenBy(""), none}, receiptAt: -1, event: e,
			want: cancellation{err: ErrVersionConflict}},
		{name: "version taken by an event without a command id", reasons: []types.CancellationReason{takenBy("cmd-1"), none}, receiptAt: -1, event: Event{AccountID: "a1", Version: 7},
			want: cancellation{err: ErrVersionConflict}},
		{name: "receipt exists: the command was answered before", reasons: []types.CancellationReason{none, failed}, receiptAt: 1, event: e,
			want: cancellation{err: ErrDuplicateCommand}},
		{name: "receipt exists behind a snapshot", reasons: []types.CancellationReason{none, none, failed}, receiptAt: 2, event: e,
			want: cancellation{err: ErrDuplicateCommand}},
		{name: "event met a concurrent transaction", reasons: []types.CancellationReason{conflict, none}, receiptAt: -1, event: e,
			want: cancellation{askWhoWrote: true, err: ErrVersionConflict}},
		{name: "event met a concurrent transaction, receipt exists", reasons: []types.CancellationReason{conflict, failed}, receiptAt: 1, event: e,
			want: cancellation{askWhoWrote: true, err: ErrDuplicateCommand}},
		{name: "snapshot met a concurrent transaction", reasons: []types.CancellationReason{none, conflict}, receiptAt: -1, event: e,
			want: cancellation{err: ErrVersionConflict}},
		{name: "receipt index past the reasons", reasons: []types.CancellationReason{none}, receiptAt: 1, event: e,
			want: cancellation{}},
		{name: "cancelled for another reason (validation, throughput)", reasons: []types.CancellationReason{{Code: aws.String("ValidationError")}, none}, receiptAt: -1, event: e,
			want: cancellation{}},
		{name: "no reasons", receiptAt: -1, event: e, want: cancellation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyCancellation(tt.reasons, tt.event, tt.receiptAt)
			if got.applied != tt.want.applied || got.askWhoWrote != tt.want.askWhoWrote || !errors.Is(got.err, tt.want.err) || (got.err == nil) != (tt.want.err == nil) {
				t.Errorf("classifyCancellation = %+v; want %+v", got, tt.want)
			}
		})
	}
}
