// Command submit-job is SubmitJobFunction: POST /jobs.
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

	"github.com/go-serverless/reference/services/jobs/internal/handlers"
	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/logging"
)

// jobRetention is how long a job record is kept after submission (the table's TTL).
const jobRetention = 7 * 24 * time.Hour

func main() {
	log := logging.New()
	if err := run(log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	env, err := envvar.Require("JOBS_TABLE", "JOBS_QUEUE_URL", "IDEMPOTENCY_TABLE")
	if err != nil {
		return err
	}
	deadline, err := envvar.Int("JOB_DEADLINE_SECONDS", 900)
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
	db := dynamodb.NewFromConfig(cfg)
	// Every AWS call ends half a second before the invocation would, leaving time to answer 500
	// (and release the Idempotency-Key) instead of being killed mid-request.
	calls := budget.Budget{Margin: 500 * time.Millisecond}

	handler := handlers.Submit{
		Jobs: jobs.Submitter{
			Jobs:      jobs.DynamoStore{DB: db, Table: env["JOBS_TABLE"], Calls: calls},
			Queue:     jobs.SQSQueue{SQS: sqs.NewFromConfig(cfg), URL: env["JOBS_QUEUE_URL"], Calls: calls},
			Deadline:  time.Duration(deadline) * time.Second,
			Retention: jobRetention,
			Now:       time.Now,
		},
		Idempotency: idempotency.New(db, env["IDEMPOTENCY_TABLE"]),
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
