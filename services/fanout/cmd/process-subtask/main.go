// Command process-subtask is ProcessSubtaskFunction: the workers behind the subtask queue.
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
	sampleRate, err := envvar.Fraction("DEBUG_SAMPLE_RATE", 0)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return err
	}
	// Stop starting subtasks 2 s before the deadline: enough to record the one in hand.
	margin := budget.Budget{Margin: 2 * time.Second}
	handler := handlers.Process{
		Subtasks: fanout.Worker{
			Joiner: fanout.Joiner{
				Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(cfg), Table: env["FANOUT_TABLE"], Calls: margin},
				Sink:    fanout.SQSSinkQueue{SQS: sqs.NewFromConfig(cfg), URL: env["SINK_QUEUE_URL"], Calls: margin},
				Now:     time.Now,
				Log:     log,
			},
			Work:   fanout.Simulate,
			Budget: margin,
			Now:    time.Now,
		},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Budget:      margin,
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
