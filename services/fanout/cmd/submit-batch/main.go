// Command submit-batch is SubmitBatchFunction: POST /batches, the ventilator.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// batchRetention is how long a batch record is kept after submission (the table's TTL).
const batchRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("FANOUT_TABLE", "TASKS_QUEUE_URL")
		if err != nil {
			return nil, err
		}
		publishWithin, err := envvar.Int("PUBLISH_WITHIN_SECONDS", 60)
		if err != nil {
			return nil, err
		}
		deadline, err := envvar.Int("BATCH_DEADLINE_SECONDS", 900)
		if err != nil {
			return nil, err
		}
		// Every AWS call ends a second before the invocation would, leaving time to answer 500.
		calls := budget.Calls{Budget: budget.Budget{Margin: time.Second}}
		return handlers.Submit{
			Batches: fanout.Submitter{
				Batches:       fanout.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"], Calls: calls},
				Queue:         fanout.SQSTaskQueue{SQS: sqs.NewFromConfig(d.AWS), URL: env["TASKS_QUEUE_URL"], Calls: calls},
				PublishWithin: time.Duration(publishWithin) * time.Second,
				Deadline:      time.Duration(deadline) * time.Second,
				Retention:     batchRetention,
				Now:           time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
