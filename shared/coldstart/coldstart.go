// Package coldstart is the one place a function's main does its cold start: the logger, the AWS
// configuration and the correlation extractor every function needs, built once per execution
// environment, then the handler built from them and handed to Lambda.
//
// A main is then only its own configuration and wiring:
//
//	func main() {
//		coldstart.Start(func(ctx context.Context, d coldstart.Deps) (any, error) {
//			env, err := envvar.Require("JOBS_TABLE")
//			if err != nil {
//				return nil, err
//			}
//			return handlers.Get{...}.Handle, nil
//		})
//	}
//
// A cold start that fails is logged once and the process exits with status 1, before serving
// anything: Lambda reports the init error for the invocation and starts a fresh environment for
// the next one, instead of a half-configured function answering requests.
package coldstart

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/logging"
)

// Deps are built once per cold start and shared by everything the handler uses.
type Deps struct {
	// Log writes JSON through Lambda's log handler with correlation IDs (see package logging).
	Log *slog.Logger
	// AWS is the SDK configuration: region, credentials and endpoints from the environment
	// (AWS_ENDPOINT_URL_<SERVICE> is how the local runner points functions at its stand-ins).
	AWS aws.Config
	// Correlation reads correlation IDs from events, sampling debug logs at DEBUG_SAMPLE_RATE.
	Correlation correlation.Extractor
}

// Setup builds the Deps from the environment.
func Setup(ctx context.Context, log *slog.Logger) (Deps, error) {
	rate, err := envvar.Fraction("DEBUG_SAMPLE_RATE", 0)
	if err != nil {
		return Deps{}, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Deps{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return Deps{Log: log, AWS: cfg, Correlation: correlation.Extractor{SampleRate: rate}}, nil
}

// Start runs Setup, then build, then lambda.StartWithOptions with the handler build returned.
// It does not return.
func Start(build func(ctx context.Context, d Deps) (any, error), opts ...lambda.Option) {
	log := logging.New()
	ctx := context.Background()
	d, err := Setup(ctx, log)
	if err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	handler, err := build(ctx, d)
	if err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	lambda.StartWithOptions(handler, opts...)
}
