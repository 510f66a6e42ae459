package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/dynamotest"
)

func newReadModel(t *testing.T) ReadModel {
	t.Helper()
	db := dynamotest.Start(t)
	return ReadModel{DB: db, Table: dynamotest.CreateTable(t, db, keyed("owner", "S", "accountId", types.ScalarAttributeTypeS))}
}

func TestReadModelCountsEachEventOnce(t *testing.T) {
	m := newReadModel(t)
	ctx := context.Background()
	history := []Event{
		opened("a1", "alice"),
		{AccountID: "a1", Owner: "alice", Version: 2, Type: Deposited, Amount: 100, At: t0},
		{AccountID: "a1", Owner: "alice", Version: 3, Type: Withdrawn, Amount: 30, At: t0},
	}
	// Every event delivered twice, and the first two again after the third (a redelivered batch).
	deliveries := []Event{history[0], history[0], history[1], history[1], history[2], history[0], history[1], history[2]}
	for i, e := range deliveries {
		if err := m.Apply(ctx, e); err != nil {
			t.Fatalf("delivery %d (version %d): %v", i, e.Version, err)
		}
	}
	rows, err := m.List(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{{Owner: "alice", AccountID: "a1", Balance: 70, Version: 3}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("List = %+v, want %+v", rows, want)
	}
	if rows, _ := m.List(ctx, "bob"); len(rows) != 0 {
		t.Errorf("bob's list = %+v, want empty", rows)
	}
}

func TestReadModelRefusesAGap(t *testing.T) {
	m := newReadModel(t)
	ctx := context.Background()
	if err := m.Apply(ctx, opened("a1", "alice")); err != nil {
		t.Fatal(err)
	}
	late := Event{AccountID: "a1", Owner: "alice", Version: 3, Type: Deposited, Amount: 5, At: t0}
	if err := m.Apply(ctx, late); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("version 3 onto version 1 = %v, want ErrOutOfOrder", err)
	}
	missing := Event{AccountID: "a2", Owner: "alice", Version: 2, Type: Deposited, Amount: 5, At: t0}
	if err := m.Apply(ctx, missing); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("version 2 of an account never opened = %v, want ErrOutOfOrder", err)
	}
}

type fakeSNS struct{ inputs []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	return &sns.PublishOutput{MessageId: aws.String("m1")}, nil
}

func TestSNSPublisherCarriesTheCorrelationID(t *testing.T) {
	f := &fakeSNS{}
	p := SNSPublisher{SNS: f, TopicARN: "arn:topic"}
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-9"})
	e := Event{AccountID: "a1", Owner: "alice", Version: 2, Type: Deposited, Amount: 5, At: t0, CorrelationID: "c-9"}
	if err := p.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	in := f.inputs[0]
	if aws.ToString(in.TopicArn) != "arn:topic" {
		t.Errorf("topic = %s, want arn:topic", aws.ToString(in.TopicArn))
	}
	attrs := in.MessageAttributes
	if got := aws.ToString(attrs[correlation.AttributeCorrelationID].StringValue); got != "c-9" {
		t.Errorf("correlation attribute = %q, want c-9", got)
	}
	if got := aws.ToString(attrs[AttributeEventType].StringValue); got != string(Deposited) {
		t.Errorf("event-type attribute = %q, want %s", got, Deposited)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"accountId": "a1", "version": float64(2), "type": "MoneyDeposited", "amount": float64(5), "at": "2026-11-30T12:00:00Z"}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("message = %v, want %v (no owner, no internal fields)", body, want)
	}
}

type projectorCalls struct {
	applyErr error
	calls    []string
}

func (p *projectorCalls) Apply(context.Context, Event) error {
	p.calls = append(p.calls, "apply")
	return p.applyErr
}

func (p *projectorCalls) Publish(context.Context, Event) error {
	p.calls = append(p.calls, "publish")
	return nil
}

func TestProjectorPublishesOnlyAfterTheReadModel(t *testing.T) {
	calls := &projectorCalls{applyErr: ErrOutOfOrder}
	p := Projector{ReadModel: calls, Publisher: calls}
	if err := p.Project(context.Background(), opened("a1", "alice")); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("Project() = %v, want the read model's error", err)
	}
	calls.applyErr = nil
	if err := p.Project(context.Background(), opened("a1", "alice")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apply", "apply", "publish"}; !reflect.DeepEqual(calls.calls, want) {
		t.Errorf("calls = %v, want %v", calls.calls, want)
	}
}
