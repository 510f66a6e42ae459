// Command record-failed-subtask is RecordFailedSubtaskFunction: it consumes the subtask queue's
// dead-letter queue and records each subtask there as failed, so its batch can still complete.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/fanout/sqsqueue"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("FANOUT_TABLE", "SINK_QUEUE_URL")
		if err != nil {
			return nil, err
		}
		maxAttempts, err := envvar.Int("MAX_RECEIVE_COUNT", fanout.DefaultTasksMaxReceiveCount)
		if err != nil {
			return nil, err
		}
		margin := budget.Budget{Margin: time.Second}
		m := metrics.New(os.Stdout, fanout.Namespace, metrics.Dimension{Name: "Service", Value: "fanout"})
		return metrics.Flushed(m, d.Log, handlers.RecordFailure{
			Subtasks: fanout.FailureRecorder{
				Joiner: fanout.Joiner{
					Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"], Calls: budget.Calls{Budget: margin}},
					Sink:    sqsqueue.SinkQueue{SQS: sqs.NewFromConfig(d.AWS), URL: env["SINK_QUEUE_URL"], Calls: budget.Calls{Budget: margin}},
					Now:     time.Now,
					Log:     d.Log,
					Metrics: m,
				},
				MaxAttempts: maxAttempts,
				Now:         time.Now,
			},
			Correlation: d.Correlation,
			Budget:      margin,
			Log:         d.Log,
		}.Handle), nil
	})
}
