// Command process-subtask is ProcessSubtaskFunction: the workers behind the subtask queue.
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
		// Stop starting subtasks 2 s before the deadline: enough to record the one in hand. A
		// batch's records are worked side by side, then their results recorded together (one
		// Recording per execution environment); the function's Timeout fits a full batch of the
		// longest items that way (see fanout.WorkerTimeout).
		margin := budget.Budget{Margin: fanout.WorkerMargin}
		m := metrics.New(os.Stdout, fanout.Namespace, metrics.Dimension{Name: "Service", Value: "fanout"})
		return metrics.Flushed(m, d.Log, handlers.Process{
			Subtasks: fanout.Worker{
				Joiner: fanout.Joiner{
					Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"], Calls: budget.Calls{Budget: margin}},
					Sink:    sqsqueue.SinkQueue{SQS: sqs.NewFromConfig(d.AWS), URL: env["SINK_QUEUE_URL"], Calls: budget.Calls{Budget: margin}},
					Now:     time.Now,
					Log:     d.Log,
					Metrics: m,
				},
				Work:      fanout.Simulate,
				Budget:    margin,
				Now:       time.Now,
				Recording: fanout.NewRecording(),
			},
			Correlation: d.Correlation,
			Budget:      margin,
			Concurrency: fanout.WorkerConcurrency,
			Log:         d.Log,
		}.Handle), nil
	})
}
