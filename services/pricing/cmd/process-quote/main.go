// Command process-quote is ProcessQuoteFunction: the worker behind the quotes queue. It prices
// each quote with the engine the message carries and has no flag client at all.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/logging"
)

// quoteRetention is how long a priced quote is kept (the table's TTL).
const quoteRetention = 7 * 24 * time.Hour

func main() {
	log := logging.New()
	if err := run(log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	env, err := envvar.Require("QUOTES_TABLE")
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
	// Stop starting messages 2 s before the deadline; the rest come back in another invocation.
	margin := budget.Budget{Margin: 2 * time.Second}
	handler := handlers.ProcessQuotes{
		Quotes: quotes.Worker{
			Store:     quotes.DynamoStore{DB: dynamodb.NewFromConfig(cfg), Table: env["QUOTES_TABLE"], Calls: margin},
			Retention: quoteRetention,
			Now:       time.Now,
		},
		Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Budget:      margin,
		Now:         time.Now,
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
