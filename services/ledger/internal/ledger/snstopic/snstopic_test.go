package snstopic

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/correlation"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type fakeSNS struct{ inputs []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	return &sns.PublishOutput{MessageId: aws.String("m1")}, nil
}

func TestPublisherCarriesTheCorrelationID(t *testing.T) {
	f := &fakeSNS{}
	p := Publisher{SNS: f, TopicARN: "arn:topic"}
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-9"})
	e := ledger.Event{AccountID: "a1", Owner: "alice", Version: 2, Type: ledger.Deposited, Amount: 5, At: t0, CorrelationID: "c-9"}
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
	if got := aws.ToString(attrs[AttributeEventType].StringValue); got != string(ledger.Deposited) {
		t.Errorf("event-type attribute = %q, want %s", got, ledger.Deposited)
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
