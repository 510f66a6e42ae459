// Command get-quote is GetQuoteFunction: GET /quotes/{quoteId}, a quote once the worker has
// priced it. It evaluates no flag: the quote names the engine that priced it.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	handler := handlers.GetQuote{
		Quotes: quotes.Reader{Store: quotes.DynamoStore{
			DB: dynamodb.NewFromConfig(cfg), Table: env["QUOTES_TABLE"], Calls: budget.Budget{Margin: 500 * time.Millisecond},
		}},
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Log:         log,
	}
	lambda.Start(handler.Handle)
	return nil
}
