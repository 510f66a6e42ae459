package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

func Example() {
	log := slog.New(slog.DiscardHandler) // logging.New() in a function
	ex := correlation.Extractor{SampleRate: 0.01}
	// Leave 5 s: the longest one job takes.
	b := budget.Budget{Margin: 5 * time.Second}

	handler := func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
		return sqsbatch.Process(ctx, log, ex, b, event, func(ctx context.Context, msg events.SQSMessage) error {
			if msg.Body == "" {
				return errors.New("empty job")
			}
			return nil // run the job
		}), nil
	}

	resp, _ := handler(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"jobId":"j1"}`},
		{MessageId: "m2", Body: ""},
	}})
	fmt.Println(resp.BatchItemFailures)
	// Output: [{m2}]
}
