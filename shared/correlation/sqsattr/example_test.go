package sqsattr_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/correlation/sqsattr"
)

func Example() {
	ex := correlation.Extractor{SampleRate: 0.01}

	// At the HTTP edge: take the client's ID, draw the sampling decision.
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"x-correlation-id": "order-42"}}
	ctx := correlation.NewContext(context.Background(), ex.HTTP(req))

	// On the way out: the same ID rides on the SQS message.
	attrs := sqsattr.Attributes(ctx)
	fmt.Println(*attrs[correlation.AttributeCorrelationID].StringValue)

	// In the consumer: the ID and the decision come back unchanged.
	msg := events.SQSMessage{MessageAttributes: map[string]events.SQSMessageAttribute{}}
	for k, v := range attrs {
		msg.MessageAttributes[k] = events.SQSMessageAttribute{DataType: *v.DataType, StringValue: v.StringValue}
	}
	fmt.Println(ex.SQS(msg).CorrelationID)
	// Output:
	// order-42
	// order-42
}
