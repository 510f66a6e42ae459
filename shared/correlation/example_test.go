package correlation_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
)

func Example() {
	ex := correlation.Extractor{SampleRate: 0.01}

	// At the HTTP edge: take the client's ID, draw the sampling decision.
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"x-correlation-id": "order-42"}}
	ctx := correlation.NewContext(context.Background(), ex.HTTP(req))

	// On the way out: the same ID rides in an asynchronous invoke's payload. (SQS messages and
	// SNS notifications carry it as message attributes: see sqsattr and snsattr.)
	type importPage struct {
		correlation.Carrier
		Key string `json:"key"`
	}
	payload, err := json.Marshal(importPage{Carrier: correlation.CarrierFrom(ctx), Key: "orders.csv"})
	if err != nil {
		fmt.Println("marshal payload:", err)
		return
	}

	// In the invoked function: the ID and the decision come back unchanged.
	var in importPage
	if err := json.Unmarshal(payload, &in); err != nil {
		fmt.Println("unmarshal payload:", err)
		return
	}
	fmt.Println(ex.Payload(in.Carrier).CorrelationID)
	// Output:
	// order-42
}
