package ledger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/services/ledger/internal/ledger/snstopic"
	"github.com/go-serverless/reference/shared/budget"
)

// deadlines records, per AWS call, the deadline of the context it was made with (zero: none).
type deadlines struct {
	mu    sync.Mutex
	calls []string
	at    []time.Time
}

func (d *deadlines) record(ctx context.Context, call string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, _ := ctx.Deadline()
	d.calls = append(d.calls, call)
	d.at = append(d.at, at)
}

// check fails t for every call whose context had no deadline, or one later than by.
func (d *deadlines) check(t *testing.T, by time.Time) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.calls) == 0 {
		t.Fatal("no call was made")
	}
	for i, at := range d.at {
		switch {
		case at.IsZero():
			t.Errorf("%s was called without a deadline; want every AWS call bounded (budget.Calls)", d.calls[i])
		case !by.IsZero() && at.After(by):
			t.Errorf("%s was called with deadline %v; want one by %v (the invocation's minus the margin)", d.calls[i], at, by)
		}
	}
}

// boundedReadModelDB answers like a read model whose row is already at version 9: a
// balanceAfter update succeeds, a delta update fails its condition and the row is read back.
type boundedReadModelDB struct{ deadlines }

func (f *boundedReadModelDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.record(ctx, "UpdateItem")
	if _, delta := in.ExpressionAttributeValues[":delta"]; delta {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *boundedReadModelDB) GetItem(ctx context.Context, _ *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.record(ctx, "GetItem")
	return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{
		"owner":     &types.AttributeValueMemberS{Value: "alice"},
		"accountId": &types.AttributeValueMemberS{Value: "a1"},
		"version":   &types.AttributeValueMemberN{Value: "9"},
		"balance":   &types.AttributeValueMemberN{Value: "5"},
	}}, nil
}

func (f *boundedReadModelDB) Query(ctx context.Context, _ *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.record(ctx, "Query")
	return &dynamodb.QueryOutput{}, nil
}

type boundedSNS struct{ deadlines }

func (f *boundedSNS) Publish(ctx context.Context, _ *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.record(ctx, "Publish")
	return &sns.PublishOutput{MessageId: aws.String("m1")}, nil
}

// projectionCalls makes every call the projection makes: a balanceAfter event, a delta event
// found already projected (UpdateItem, then GetItem), a page of the list, and a publish.
func projectionCalls(t *testing.T, ctx context.Context, m ledger.ReadModel, p snstopic.Publisher) {
	t.Helper()
	after := int64(5)
	withBalance := ledger.Event{AccountID: "a1", Owner: "alice", Version: 9, Type: ledger.Deposited, Amount: 5, BalanceAfter: &after, At: ledger.T0}
	delta := ledger.Event{AccountID: "a1", Owner: "alice", Version: 8, Type: ledger.Deposited, Amount: 5, At: ledger.T0}
	for _, e := range []ledger.Event{withBalance, delta} {
		if err := m.Apply(ctx, e); err != nil {
			t.Fatalf("Apply version %d: %v", e.Version, err)
		}
	}
	if _, _, err := m.List(ctx, "alice", "", 10); err != nil {
		t.Fatalf("List: %v", err)
	}
	if err := p.Publish(ctx, withBalance); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// TestProjectionCallsAreBounded: the read model and the publisher give every AWS call a
// deadline (budget.Calls), also when they are wired with zero values: a call that hangs fails
// with time left to report the record, instead of running until Lambda kills the invocation.
func TestProjectionCallsAreBounded(t *testing.T) {
	db, topic := &boundedReadModelDB{}, &boundedSNS{}
	projectionCalls(t, context.Background(), ledger.ReadModel{DB: db, Table: "accounts"}, snstopic.Publisher{SNS: topic, TopicARN: "arn:topic"})
	db.check(t, time.Time{})
	topic.check(t, time.Time{})
}

// TestProjectionCallsKeepTheMargin: wired with the function's budget.Calls, every call ends the
// margin before the invocation's deadline, leaving time to report the record as failed.
func TestProjectionCallsKeepTheMargin(t *testing.T) {
	const margin = 2 * time.Second
	invocation := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), invocation)
	defer cancel()
	calls := budget.Calls{Budget: budget.Budget{Margin: margin}, Timeout: time.Hour}
	db, topic := &boundedReadModelDB{}, &boundedSNS{}
	projectionCalls(t, ctx, ledger.ReadModel{DB: db, Table: "accounts", Calls: calls}, snstopic.Publisher{SNS: topic, TopicARN: "arn:topic", Calls: calls})
	db.check(t, invocation.Add(-margin))
	topic.check(t, invocation.Add(-margin))
}
