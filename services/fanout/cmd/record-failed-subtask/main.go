// Command record-failed-subtask is RecordFailedSubtaskFunction: it consumes the subtask queue's
// dead-letter queue and records each subtask there as failed, so its batch can still complete.
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

func main() {
	log := logging.New()
	if err := run(log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	env, err := envvar.Require("FANOUT_TABLE", "SINK_QUEUE_URL")
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
	margin := budget.Budget{Margin: time.Second}
	handler := handlers.RecordFailure{
		Subtasks: fanout.FailureRecorder{
			Joiner: fanout.Joiner{
				Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(cfg), Table: env["FANOUT_TABLE"], Calls: margin},
				Sink:    fanout.SQSSinkQueue{SQS: sqs.NewFromConfig(cfg), URL: env["SINK_QUEUE_URL"], Calls: margin},
				Now:     time.Now,
				Log:     log,
			},
			MaxAttempts: maxAttempts,
			Now:         time.Now,
		},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Budget:      margin,
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
