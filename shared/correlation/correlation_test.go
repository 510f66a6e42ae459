package correlation

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// fixed returns an Extractor whose draws and new IDs are known.
func fixed(rate, draw float64) Extractor {
	return Extractor{
		SampleRate: rate,
		Rand:       func() float64 { return draw },
		NewID:      func() string { return "new-id" },
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		reqID   string
		ex      Extractor
		want    IDs
	}{
		{"header", map[string]string{"x-correlation-id": "abc-123"}, "req-1", fixed(0, 0.5), IDs{"abc-123", false}},
		{"header any case", map[string]string{"X-Correlation-Id": "abc-123"}, "req-1", fixed(0, 0.5), IDs{"abc-123", false}},
		{"request id", nil, "req-1", fixed(0, 0.5), IDs{"req-1", false}},
		{"new id", nil, "", fixed(0, 0.5), IDs{"new-id", false}},
		{"malformed header", map[string]string{"x-correlation-id": "a b\nc"}, "req-1", fixed(0, 0.5), IDs{"req-1", false}},
		{"sampled when draw below rate", nil, "req-1", fixed(0.1, 0.05), IDs{"req-1", true}},
		{"not sampled when draw at rate", nil, "req-1", fixed(0.1, 0.1), IDs{"req-1", false}},
		{"client cannot switch on debug", map[string]string{"x-correlation-id": "abc", "x-debug-sampled": "true", "debug-sampled": "true"}, "", fixed(0, 0), IDs{"abc", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{Headers: tt.headers}
			req.RequestContext.RequestID = tt.reqID
			if got := tt.ex.HTTP(req); got != tt.want {
				t.Errorf("HTTP() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHTTPRejectsOverlongID(t *testing.T) {
	long := make([]byte, maxIDLength+1)
	for i := range long {
		long[i] = 'a'
	}
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{Header: string(long)}}
	if got := fixed(0, 1).HTTP(req).CorrelationID; got != "new-id" {
		t.Errorf("CorrelationID = %q, want new-id", got)
	}
}

func sqsAttr(v string) events.SQSMessageAttribute {
	return events.SQSMessageAttribute{DataType: "String", StringValue: &v}
}

func TestSQS(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]events.SQSMessageAttribute
		ex    Extractor
		want  IDs
	}{
		{"sampled", map[string]events.SQSMessageAttribute{"correlation-id": sqsAttr("abc"), "debug-sampled": sqsAttr("true")}, fixed(0, 0.5), IDs{"abc", true}},
		{"not sampled", map[string]events.SQSMessageAttribute{"correlation-id": sqsAttr("abc"), "debug-sampled": sqsAttr("false")}, fixed(1, 0), IDs{"abc", false}},
		{"decision kept though rate is 1", map[string]events.SQSMessageAttribute{"correlation-id": sqsAttr("abc")}, fixed(1, 0), IDs{"abc", false}},
		{"missing id starts a chain", nil, fixed(0.5, 0.1), IDs{"new-id", true}},
		{"sampled flag without id ignored", map[string]events.SQSMessageAttribute{"debug-sampled": sqsAttr("true")}, fixed(0, 0.5), IDs{"new-id", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ex.SQS(events.SQSMessage{MessageAttributes: tt.attrs}); got != tt.want {
				t.Errorf("SQS() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSNS(t *testing.T) {
	// The attribute shape as it arrives in a Lambda SNS event.
	const event = `{"Records":[{"Sns":{"MessageAttributes":{
		"correlation-id":{"Type":"String","Value":"abc"},
		"debug-sampled":{"Type":"String","Value":"true"}}}}]}`
	var e events.SNSEvent
	if err := json.Unmarshal([]byte(event), &e); err != nil {
		t.Fatal(err)
	}
	if got, want := fixed(0, 0.5).SNS(e.Records[0].SNS), (IDs{"abc", true}); got != want {
		t.Errorf("SNS() = %+v, want %+v", got, want)
	}
	if got, want := fixed(0, 0.5).SNS(events.SNSEntity{}), (IDs{"new-id", false}); got != want {
		t.Errorf("SNS() without attributes = %+v, want %+v", got, want)
	}
}

func TestPayload(t *testing.T) {
	type importPage struct {
		Carrier
		Key string `json:"key"`
	}
	ctx := NewContext(context.Background(), IDs{"abc", true})
	b, err := json.Marshal(importPage{Carrier: CarrierFrom(ctx), Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"correlationId":"abc","debugSampled":true,"key":"k"}`; got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}
	var in importPage
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if got, want := fixed(0, 0.5).Payload(in.Carrier), (IDs{"abc", true}); got != want {
		t.Errorf("Payload() = %+v, want %+v", got, want)
	}
	if got, want := fixed(0, 0.5).Payload(Carrier{}), (IDs{"new-id", false}); got != want {
		t.Errorf("Payload() of empty carrier = %+v, want %+v", got, want)
	}
}

// The message attributes' round trips are tested in sqsattr and snsattr.
func TestOutgoingRoundTrip(t *testing.T) {
	ctx := NewContext(context.Background(), IDs{"abc", true})

	h := http.Header{}
	SetHeader(ctx, h)
	if got := h.Get(Header); got != "abc" {
		t.Errorf("header = %q, want abc", got)
	}
}

func TestOutgoingWithoutIDs(t *testing.T) {
	ctx := context.Background()
	if got := CarrierFrom(ctx); got != (Carrier{}) {
		t.Errorf("CarrierFrom() = %+v, want empty", got)
	}
	h := http.Header{}
	SetHeader(ctx, h)
	if len(h) != 0 {
		t.Errorf("header = %v, want none", h)
	}
}

func TestZeroExtractor(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	var ex Extractor
	a, b := ex.New(), ex.New()
	if !uuid.MatchString(a.CorrelationID) {
		t.Errorf("CorrelationID = %q, want a UUIDv4", a.CorrelationID)
	}
	if a.CorrelationID == b.CorrelationID {
		t.Errorf("two new IDs are both %q", a.CorrelationID)
	}
	if a.DebugSampled || b.DebugSampled {
		t.Error("zero SampleRate sampled a chain")
	}
	if !(Extractor{SampleRate: 1}).New().DebugSampled {
		t.Error("SampleRate 1 did not sample")
	}
}

func TestFromContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext(empty) ok = true, want false")
	}
	want := IDs{"abc", true}
	got, ok := FromContext(NewContext(context.Background(), want))
	if !ok || got != want {
		t.Errorf("FromContext() = %+v, %v, want %+v, true", got, ok, want)
	}
}
