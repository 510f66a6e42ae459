package handlers

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// fakeProjector records what it projected (with the correlation id it saw) and fails on failAt.
type fakeProjector struct {
	failAt int64
	got    []ledger.Event
	ids    []string
}

func (f *fakeProjector) Project(ctx context.Context, e ledger.Event) error {
	if e.Version == f.failAt {
		return errors.New("sns unavailable")
	}
	f.got = append(f.got, e)
	ids, _ := correlation.FromContext(ctx)
	f.ids = append(f.ids, ids.CorrelationID)
	return nil
}

func TestProjectFromFixture(t *testing.T) {
	var ev events.DynamoDBEvent
	lambdatest.Event(t, testdata+"project-account.json", &ev)
	f := &fakeProjector{}
	resp, err := Project{Projector: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle() = %+v, %v; want no failures", resp, err)
	}
	if len(f.got) != 3 {
		t.Fatalf("projected %d events, want 3", len(f.got))
	}
	got := f.got[2]
	if got.BalanceAfter == nil || *got.BalanceAfter != 7500 {
		t.Errorf("event 3 balance after = %v, want 7500", got.BalanceAfter)
	}
	got.BalanceAfter = nil // checked above; == would compare the pointer
	want := ledger.Event{AccountID: accountID, Version: 3, Type: ledger.Withdrawn, Amount: 2500, Owner: sub, CorrelationID: "checkout-7f3a",
		CommandID: "W7PJ3KDX9QZ2BNV4TRL6MH8YCF", At: got.At}
	if got != want || got.At.IsZero() {
		t.Errorf("event 3 = %+v, want %+v", got, want)
	}
	if wantIDs := []string{"checkout-7f3a", "checkout-7f3a", "checkout-7f3a"}; !reflect.DeepEqual(f.ids, wantIDs) {
		t.Errorf("correlation ids = %v, want the command's", f.ids)
	}
}

func TestProjectReportsTheFirstFailureAndStops(t *testing.T) {
	var ev events.DynamoDBEvent
	lambdatest.Event(t, testdata+"project-account.json", &ev)
	f := &fakeProjector{failAt: 2}
	resp, _ := Project{Projector: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), ev)
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[1].Change.SequenceNumber}}
	if !reflect.DeepEqual(resp.BatchItemFailures, want) {
		t.Errorf("failures = %+v, want %+v", resp.BatchItemFailures, want)
	}
	if len(f.got) != 1 {
		t.Errorf("projected %d events, want 1: nothing after a failure may run ahead of it", len(f.got))
	}
}

func TestProjectReportsAnUndecodableRecord(t *testing.T) {
	var ev events.DynamoDBEvent
	lambdatest.Event(t, testdata+"project-account.json", &ev)
	delete(ev.Records[0].Change.NewImage, "owner")
	resp, _ := Project{Projector: &fakeProjector{}, Log: lambdatest.QuietLogger()}.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
		t.Errorf("failures = %+v, want the first record", resp.BatchItemFailures)
	}
}

func TestProjectSkipsNonInserts(t *testing.T) {
	var ev events.DynamoDBEvent
	lambdatest.Event(t, testdata+"project-account.json", &ev)
	ev.Records[0].EventName = "REMOVE"
	f := &fakeProjector{}
	Project{Projector: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), ev)
	if len(f.got) != 2 {
		t.Errorf("projected %d, want 2 (the REMOVE skipped)", len(f.got))
	}
}

func TestDecodeEventConvertsEveryAttributeType(t *testing.T) {
	image := map[string]events.DynamoDBAttributeValue{
		"accountId": events.NewStringAttribute("a1"), "version": events.NewNumberAttribute("4"),
		"owner": events.NewStringAttribute("alice"), "type": events.NewStringAttribute("MoneyDeposited"),
		"amount": events.NewNumberAttribute("12"), "debugSampled": events.NewBooleanAttribute(true),
		"extra": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"l": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewNullAttribute(), events.NewBinaryAttribute([]byte("x"))}),
			"s": events.NewStringSetAttribute([]string{"a"}), "n": events.NewNumberSetAttribute([]string{"1"}), "b": events.NewBinarySetAttribute([][]byte{[]byte("y")}),
		}),
	}
	e, err := DecodeEvent(image)
	if err != nil {
		t.Fatal(err)
	}
	if e.AccountID != "a1" || e.Version != 4 || e.Amount != 12 || !e.DebugSampled || e.Type != ledger.Deposited {
		t.Errorf("DecodeEvent() = %+v", e)
	}
}
