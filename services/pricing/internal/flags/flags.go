package flags

import (
	"context"
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

// ReasonNotReady is the reason of a fallback served because the flag data has not arrived yet:
// the client is still starting, or cannot reach LaunchDarkly. It is LaunchDarkly's own word for
// it, so one log query counts both.
const ReasonNotReady Reason = "ERROR(CLIENT_NOT_READY)"

// Evaluator is what a handler needs from the flags: a decision per user, and a flush at the end
// of an invocation that made one (*Async, Fallback, and the LaunchDarkly client Async wraps).
type Evaluator interface {
	Evaluate(ctx context.Context, u User) (pricing.Engine, Reason)
	Flush(ctx context.Context)
}

// Fallback is the evaluator used when no LaunchDarkly client could be built (the SDK key could
// not be read): v1 for everyone, with the reason given.
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
