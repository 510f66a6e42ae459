// Command submit-batch is SubmitBatchFunction: POST /batches, the ventilator.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/logging"
)

// batchRetention is how long a batch record is kept after submission (the table's TTL).
const batchRetention = 7 * 24 * time.Hour

func main() {
	log := logging.New()
	if err := run(log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	env, err := envvar.Require("FANOUT_TABLE", "TASKS_QUEUE_URL")
	if err != nil {
		return err
	}
	publishWithin, err := envvar.Int("PUBLISH_WITHIN_SECONDS", 60)
	if err != nil {
		return err
	}
	deadline, err := envvar.Int("BATCH_DEADLINE_SECONDS", 900)
	if err != nil {
		return err
	}
	sampleRate, err := envvar.Fraction("DEBUG_SAMPLE_RATE", 0)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return err
	}
	// Every AWS call ends a second before the invocation would, leaving time to answer 500.
	calls := budget.Budget{Margin: time.Second}
	handler := handlers.Submit{
		Batches: fanout.Submitter{
			Batches:       fanout.DynamoStore{DB: dynamodb.NewFromConfig(cfg), Table: env["FANOUT_TABLE"], Calls: calls},
			Queue:         fanout.SQSTaskQueue{SQS: sqs.NewFromConfig(cfg), URL: env["TASKS_QUEUE_URL"], Calls: calls},
			PublishWithin: time.Duration(publishWithin) * time.Second,
			Deadline:      time.Duration(deadline) * time.Second,
			Retention:     batchRetention,
			Now:           time.Now,
		},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
