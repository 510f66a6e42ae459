package handlers

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
)

// EventProjector applies one stored event outside the events table (ledger.Projector).
type EventProjector interface {
	Project(ctx context.Context, e ledger.Event) error
}

// Project handles a batch from the events table's stream. Records of one account arrive in
// version order and must be projected in that order, so the first failure stops the batch: it
// and every record after it are reported, and the stream hands them back from that point.
type Project struct {
	Projector EventProjector
	// Budget decides when to stop starting records, so a slow batch is reported rather than cut off.
	Budget budget.Budget
	Log    *slog.Logger
}

// Handle projects each inserted event in order and reports the first that failed.
func (h Project) Handle(ctx context.Context, event events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range event.Records {
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue // events are immutable: only inserts are news
		}
		seq := rec.Change.SequenceNumber
		fail := func(err error) (events.DynamoDBEventResponse, error) {
			h.Log.ErrorContext(ctx, "project event", "sequenceNumber", seq, "error", err)
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}
			return resp, nil
		}
		if !h.Budget.Fits(ctx, 0) {
			return fail(fmt.Errorf("time budget spent before record %s", seq))
		}
		e, err := DecodeEvent(rec.Change.NewImage)
		if err != nil {
			// Retried until the mapping's MaximumRetryAttempts, then sent to its OnFailure queue.
			return fail(err)
		}
		ectx := correlation.NewContext(ctx, correlation.IDs{CorrelationID: e.CorrelationID, DebugSampled: e.DebugSampled})
		if err := h.Projector.Project(ectx, e); err != nil {
			return fail(err)
		}
		h.Log.DebugContext(ectx, "event projected", "accountId", e.AccountID, "version", e.Version, "type", e.Type)
	}
	return resp, nil
}

// DecodeEvent reads an event from a stream record's NewImage, with the same attribute names the
// store writes.
func DecodeEvent(image map[string]events.DynamoDBAttributeValue) (ledger.Event, error) {
	item := make(map[string]types.AttributeValue, len(image))
	for name, v := range image {
		av, err := attributeValue(v)
		if err != nil {
			return ledger.Event{}, fmt.Errorf("attribute %s: %w", name, err)
		}
		item[name] = av
	}
	var e ledger.Event
	if err := attributevalue.UnmarshalMap(item, &e); err != nil {
		return ledger.Event{}, fmt.Errorf("decode event: %w", err)
	}
	if e.AccountID == "" || e.Version < 1 || e.Owner == "" {
		return ledger.Event{}, fmt.Errorf("decode event: not an account event (accountId %q, version %d)", e.AccountID, e.Version)
	}
	return e, nil
}

// attributeValue converts a stream record's attribute to the SDK's type.
func attributeValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, x := range list {
			av, err := attributeValue(x)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m := v.Map()
		out := make(map[string]types.AttributeValue, len(m))
		for k, x := range m {
			av, err := attributeValue(x)
			if err != nil {
				return nil, err
			}
			out[k] = av
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}
