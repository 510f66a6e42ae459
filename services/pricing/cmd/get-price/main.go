// Command get-price is GetPriceFunction: GET /prices/{sku}, priced by the engine the
// pricing-engine feature flag chooses for the caller.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/shared/coldstart"
)

func main() {
	// The flag client is built inside the cold start, but the SIGTERM option is given before it:
	// build sets closeFlags and the option calls whatever it holds when the signal arrives.
	closeFlags := func() {}
	coldstart.Start(func(ctx context.Context, d coldstart.Deps) (any, error) {
		settings, err := flags.SettingsFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		// Built once per execution environment; never fails the cold start (see flags.Setup).
		var ev flags.Evaluator
		ev, closeFlags = flags.Setup(ctx, settings, flags.Clients{SSM: ssm.NewFromConfig(d.AWS), DynamoDB: dynamodb.NewFromConfig(d.AWS)}, d.Log)
		return handlers.Price{
			Flags:       ev,
			Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
			Correlation: d.Correlation,
			Now:         time.Now,
			Log:         d.Log,
		}.Handle, nil
	},
		// Lambda sends SIGTERM before shutting an environment down (when an extension is
		// registered): close the client so its last analytics events are delivered.
		lambda.WithEnableSIGTERM(func() { closeFlags() }),
	)
}
