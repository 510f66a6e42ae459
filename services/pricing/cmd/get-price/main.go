// Command get-price is GetPriceFunction: GET /prices/{sku}, priced by the engine the
// pricing-engine feature flag chooses for the caller.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/flags/launchdarkly"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/ssmparam"
	"github.com/go-serverless/reference/shared/coldstart"
)

func main() {
	// No lambda.WithEnableSIGTERM to close the flag client at shutdown: it registers an extension
	// in the cold start, which cost a quarter of the SDK floor, to deliver only events whose
	// per-invocation flush did not finish (README, Cold start).
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		settings, err := launchdarkly.SettingsFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		h, _ := newPrice(d, settings)
		return h.Handle, nil
	})
}

// newPrice wires the handler. The flag client starts in the background and the cold start goes
// on without waiting for SSM or LaunchDarkly (launchdarkly.Start); only the clients the flag
// source uses are built. The SDK key is read without the SDK's SSM client (package ssmparam
// says why).
func newPrice(d coldstart.Deps, s launchdarkly.Settings) (handlers.Price, *flags.Async) {
	var clients launchdarkly.Clients
	if s.Source != launchdarkly.File {
		clients.SSM = ssmparam.New(d.AWS) // the SDK key
	}
	if s.Source == launchdarkly.Daemon {
		clients.DynamoDB = dynamodb.NewFromConfig(d.AWS) // the Relay Proxy's store
	}
	ev := launchdarkly.Start(s, clients, d.Log)
	return handlers.Price{
		Flags:       ev,
		Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
		Correlation: d.Correlation,
		Now:         time.Now,
		Log:         d.Log,
	}, ev
}
