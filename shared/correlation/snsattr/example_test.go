package snsattr_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/correlation/snsattr"
)

func Example() {
	ex := correlation.Extractor{SampleRate: 0.01}

	// In the function that publishes: the chain's IDs, read from its own event.
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "order-42"})

	// On the way out: the same ID rides on the notification.
	attrs := snsattr.Attributes(ctx)
	fmt.Println(*attrs[correlation.AttributeCorrelationID].StringValue)

	// In a subscribed function: SNS delivers each attribute as {"Type", "Value"}, and the ID
	// and the decision come back unchanged.
	rec := events.SNSEntity{MessageAttributes: map[string]interface{}{}}
	for k, v := range attrs {
		rec.MessageAttributes[k] = map[string]interface{}{"Type": *v.DataType, "Value": *v.StringValue}
	}
	fmt.Println(ex.SNS(rec).CorrelationID)
	// Output:
	// order-42
	// order-42
}
