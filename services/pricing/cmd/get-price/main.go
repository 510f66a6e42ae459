// Command get-price is GetPriceFunction: GET /prices/{sku}, priced by the engine the
// pricing-engine feature flag chooses for the caller.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
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
	// Built once per execution environment; never fails the cold start (see flags.Setup).
	ev, closeFlags := flags.Setup(ctx, settings, flags.Clients{SSM: ssm.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg)}, log)
	handler := handlers.Price{
		Flags:       ev,
		Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
		Correlation: correlation.Extractor{SampleRate: sampleRate},
		Now:         time.Now,
		Log:         log,
	}
	// Lambda sends SIGTERM before shutting an environment down (when an extension is registered):
	// close the client so its last analytics events are delivered.
	lambda.StartWithOptions(handler.Handle, lambda.WithEnableSIGTERM(closeFlags))
	return nil
}
