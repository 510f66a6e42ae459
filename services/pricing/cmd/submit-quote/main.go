// Command submit-quote is SubmitQuoteFunction: POST /quotes. It decides the engine with the
// pricing-engine flag and queues the quote with that decision.
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
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
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
	env, err := envvar.Require("QUOTES_QUEUE_URL")
	if err != nil {
		return err
	}
	settings, err := flags.SettingsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	sampleRate, err := envvar.Fraction("DEBUG_SAMPLE_RATE", 0)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	ev, closeFlags := flags.Setup(ctx, settings, flags.Clients{SSM: ssm.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg)}, log)
	handler := handlers.SubmitQuote{
		Quotes: quotes.Submitter{Queue: quotes.SQSQueue{
			SQS: sqs.NewFromConfig(cfg), URL: env["QUOTES_QUEUE_URL"],
			// The send ends half a second before the invocation would, leaving time to answer 500.
			Calls: budget.Budget{Margin: 500 * time.Millisecond},
		}},
		Flags:       ev,
		Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Now:         time.Now,
		Log:         log,
	}
	lambda.StartWithOptions(handler.Handle, lambda.WithEnableSIGTERM(closeFlags))
	return nil
}
