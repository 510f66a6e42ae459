// Command process-job is ProcessJobFunction: the worker behind the jobs queue.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/jobs/internal/handlers"
	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/logging"
)

func main() {
	log := logging.New()
	if err := run(log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	env, err := envvar.Require("JOBS_TABLE", "IDEMPOTENCY_TABLE")
	if err != nil {
		return err
	}
	maxAttempts, err := envvar.Int("MAX_RECEIVE_COUNT", 3)
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
	// Stop starting work 2 s before the deadline: enough to record a failure and release a claim.
	margin := budget.Budget{Margin: 2 * time.Second}
	handler := handlers.Process{
		Jobs: jobs.Processor{
			Jobs:        jobs.DynamoStore{DB: db, Table: env["JOBS_TABLE"], Calls: margin},
			Runs:        idempotency.New(db, env["IDEMPOTENCY_TABLE"]),
			Work:        jobs.Simulate,
			MaxAttempts: maxAttempts,
			Budget:      margin,
			Now:         time.Now,
			Log:         log,
		},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Budget:      margin,
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
