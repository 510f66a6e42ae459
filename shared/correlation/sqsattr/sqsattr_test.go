package sqsattr

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
)

func TestRoundTrip(t *testing.T) {
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc", DebugSampled: true})
	// The consumer neither samples nor makes an ID of its own: the attributes decide both.
	ex := correlation.Extractor{Rand: func() float64 { return 0.5 }, NewID: func() string { return "new-id" }}

	in := map[string]events.SQSMessageAttribute{}
	for k, v := range Attributes(ctx) {
		in[k] = events.SQSMessageAttribute{DataType: *v.DataType, StringValue: v.StringValue}
	}
	if got, want := ex.SQS(events.SQSMessage{MessageAttributes: in}), (correlation.IDs{CorrelationID: "abc", DebugSampled: true}); got != want {
		t.Errorf("SQS round trip = %+v, want %+v", got, want)
	}
}

func TestWithoutIDs(t *testing.T) {
	if got := Attributes(context.Background()); got != nil {
		t.Errorf("Attributes() = %v, want nil", got)
	}
}
