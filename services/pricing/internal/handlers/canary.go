package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/httpapi"
)

// EngineHeader is the response header naming the engine that served the request.
const EngineHeader = "X-Pricing-Engine"

// Flags decides the engine for a user (*flags.Async around a *launchdarkly.Client, flags.Fallback).
type Flags interface {
	Evaluate(ctx context.Context, u flags.User) (pricing.Engine, flags.Reason)
	// Flush delivers the evaluation's analytics events before the environment is frozen.
	Flush(ctx context.Context)
}

// Metrics records one request's engine, latency and outcome (canary.Recorder).
type Metrics interface {
	Record(s canary.Sample) error
}

// userFrom builds the flag's user from the verified JWT: key is the subject; plan and region
// are claims, which payload format 2.0 hands over as strings (absent ones are left empty).
func userFrom(req events.APIGatewayV2HTTPRequest, sub string) flags.User {
	u := flags.User{Key: sub}
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		u.Plan = a.JWT.Claims["plan"]
		if u.Plan == "" {
			u.Plan = a.JWT.Claims["custom:plan"] // Cognito's name for the user pool's custom attribute
		}
		u.Region = a.JWT.Claims["region"]
	}
	return u
}

// decide evaluates the flag for the caller and returns the engine and a logger that puts the
// engine on every line of the request.
func decide(ctx context.Context, f Flags, log *slog.Logger, u flags.User) (pricing.Engine, *slog.Logger) {
	engine, reason := f.Evaluate(ctx, u)
	log = log.With("engine", string(engine))
	log.DebugContext(ctx, "pricing engine chosen", "flag", flags.FlagKey, "reason", string(reason), "plan", u.Plan)
	return engine, log
}

// finish stamps the engine on resp and records the request's metric line.
func finish(ctx context.Context, m Metrics, log *slog.Logger, route string, engine pricing.Engine, started time.Time, now func() time.Time, resp events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	resp = httpapi.WithHeader(resp, EngineHeader, string(engine))
	if err := m.Record(canary.Sample{Engine: engine, Route: route, Latency: now().Sub(started), Failed: resp.StatusCode >= 500}); err != nil {
		log.WarnContext(ctx, "canary metric not written", "error", err)
	}
	return resp
}
