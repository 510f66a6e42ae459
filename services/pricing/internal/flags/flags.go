package flags

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

// FlagKey is the feature flag that chooses the pricing engine. Its variations are the engine
// names ("v1", "v2"), so the value the flag serves is the value every header, log line and metric
// carries.
const FlagKey = "pricing-engine"

// User is who a flag is evaluated for: the authenticated caller. Key is the JWT's sub, so a
// percentage rollout buckets by user (sticky across requests, functions and cold starts), not
// by request.
type User struct {
	Key string
	// Plan and Region come from JWT claims; targeting rules match on them.
	Plan   string
	Region string
}

// Reason says why an evaluation gave its engine, in LaunchDarkly's words: "FALLTHROUGH" (the
// percentage rollout), "RULE_MATCH(0,beta-plan)", "TARGET_MATCH", "OFF" (the kill switch), or
// "ERROR(FLAG_NOT_FOUND)", "ERROR(CLIENT_NOT_READY)" and the like for a fallback.
type Reason string

// Fallback is the evaluator used when no LaunchDarkly client could be built at all: v1 for
// everyone, with the reason given.
type Fallback struct {
	Reason Reason
	Log    *slog.Logger
}

// Evaluate answers v1.
func (f Fallback) Evaluate(ctx context.Context, u User) (pricing.Engine, Reason) {
	f.Log.DebugContext(ctx, "feature flag not evaluated: no client", "flag", FlagKey, "reason", string(f.Reason))
	return pricing.V1, f.Reason
}

// Flush does nothing: a fallback records no events.
func (Fallback) Flush(context.Context) {}

// Source is where a client's flag data comes from.
type Source string

// The data sources, chosen by the FLAG_SOURCE setting.
const (
	// Polling asks LaunchDarkly for all flags at start and every PollInterval (30 s at least).
	Polling Source = "polling"
	// Daemon reads flags from a DynamoDB table that a LaunchDarkly Relay Proxy keeps up to date.
	Daemon Source = "daemon"
	// File reads flags from a local JSON or YAML file and re-reads it when it changes.
	File Source = "file"
)

// ParseSource returns the source named s.
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case Polling, Daemon, File:
		return Source(s), nil
	}
	return "", fmt.Errorf("flag source %q: want polling, daemon or file", s)
}

// SDKKey is a LaunchDarkly server-side SDK key. It is a type of its own so that it cannot be
// logged by accident: slog and fmt print it as [redacted].
type SDKKey string

// LogValue keeps the key out of structured logs.
func (SDKKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the key out of fmt output.
func (SDKKey) String() string { return "[redacted]" }

// GoString keeps the key out of %#v output.
func (SDKKey) GoString() string { return "[redacted]" }
