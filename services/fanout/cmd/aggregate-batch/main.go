// Command aggregate-batch is AggregateBatchFunction: the sink that joins a finished batch.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	env, err := envvar.Require("FANOUT_TABLE")
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
	margin := budget.Budget{Margin: 2 * time.Second}
	handler := handlers.Aggregate{
		Batches: fanout.Aggregator{
			// Reading 10,000 results takes a few pages; each page gets its own call timeout.
			Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(cfg), Table: env["FANOUT_TABLE"], Calls: margin, CallTimeout: 5 * time.Second},
			Now:     time.Now,
			Log:     log,
		},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Budget:      margin,
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
