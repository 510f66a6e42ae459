// Package logging builds the structured logger every function uses: JSON
// through aws-lambda-go's lambdacontext handler (which adds requestId), plus
// the chain's correlationId and the invocation's X-Ray traceId on every line
// and DEBUG lines only for chains the edge sampled (see package correlation).
//
// Sampling whole chains, rather than switching DEBUG on for a function,
// keeps the cost of debug logs proportional to the sample rate while still
// giving, for the sampled requests, every debug line from every function they
// passed through.
//
// # Two levels, and why both are needed
//
// Lambda's advanced logging controls (LoggingConfig in the template) filter
// JSON log lines by their "level" field before they reach CloudWatch, and
// lambdacontext also reads that setting (AWS_LAMBDA_LOG_LEVEL). If
// ApplicationLogLevel were INFO, Lambda would drop every sampled debug line.
// So the template sets ApplicationLogLevel to DEBUG, and this package's
// handler is the gate instead: LOG_LEVEL sets the floor for unsampled
// chains, and sampled chains log from DEBUG up.
//
// Keys are camelCase across the repository: requestId (from lambdacontext),
// correlationId, debugSampled and traceId (from here).
//
// # Trace ID
//
// traceId is the Root of the invocation's X-Ray trace header
// ("1-5759e988-bd862e3fe1be46a994272793"), which aws-lambda-go puts in the
// invocation's context under "x-amzn-trace-id" (from the Runtime API's
// Lambda-Runtime-Trace-Id). It is read from the context, not from the
// _X_AMZN_TRACE_ID variable, which is one per process. With it a log line
// leads to its trace in X-Ray, and a trace to its log lines; correlationId
// stays the key that spans the whole chain, since a trace may be cut where a
// hop does not pass the trace header on.
package logging

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/go-serverless/reference/shared/correlation"
)

// Keys this package adds to log records.
const (
	KeyCorrelationID = "correlationId"
	KeyDebugSampled  = "debugSampled"
	KeyTraceID       = "traceId"
)

// traceHeaderKey is the context key under which aws-lambda-go stores the
// invocation's trace header: a plain string, as aws-lambda-go writes it.
const traceHeaderKey = "x-amzn-trace-id"

// New returns the logger for a Lambda function: JSON (when the function's
// log format is JSON) through lambdacontext, gated at the level named by the
// LOG_LEVEL environment variable (DEBUG, INFO, WARN or ERROR; INFO when unset
// or unknown), and at DEBUG for sampled chains.
func New() *slog.Logger {
	return slog.New(NewHandler(lambdacontext.NewLogHandler(), levelFromEnv(os.Getenv)))
}

// NewHandler wraps inner so that records at level or above are handled, plus
// records from DEBUG up when the context's chain is debug-sampled, and every
// record carries the context's correlation ID and trace ID.
//
// The returned handler is the only level gate: slog asks the outermost
// handler whether a level is enabled and then hands the record to inner,
// whose own level setting is not consulted again.
func NewHandler(inner slog.Handler, level slog.Level) slog.Handler {
	return &handler{inner: inner, level: level}
}

type handler struct {
	inner slog.Handler
	level slog.Level
}

// Enabled reports whether a record at l should be logged in ctx.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	if l >= h.level {
		return true
	}
	ids, _ := correlation.FromContext(ctx)
	return ids.DebugSampled && l >= slog.LevelDebug
}

// Handle adds the correlation and trace attributes from ctx and passes r on.
// Like lambdacontext's requestId, they are record attributes, so on a logger
// derived with WithGroup they appear inside the group.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if ids, ok := correlation.FromContext(ctx); ok {
		r.AddAttrs(slog.String(KeyCorrelationID, ids.CorrelationID))
		if ids.DebugSampled {
			r.AddAttrs(slog.Bool(KeyDebugSampled, true))
		}
	}
	if id := traceRoot(ctx); id != "" {
		r.AddAttrs(slog.String(KeyTraceID, id))
	}
	return h.inner.Handle(ctx, r)
}

// traceRoot returns the Root field of the trace header in ctx
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
// or "" when ctx has none or the header has no Root.
func traceRoot(ctx context.Context) string {
	header, _ := ctx.Value(traceHeaderKey).(string)
	for field := range strings.SplitSeq(header, ";") {
		if root, ok := strings.CutPrefix(strings.TrimSpace(field), "Root="); ok {
			return root
		}
	}
	return ""
}

// WithAttrs returns a handler with the same gating whose records carry attrs.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{inner: h.inner.WithAttrs(attrs), level: h.level}
}

// WithGroup returns a handler with the same gating that nests later
// attributes under name.
func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{inner: h.inner.WithGroup(name), level: h.level}
}

// levelFromEnv reads LOG_LEVEL through getenv. An unknown value falls back
// to INFO rather than failing the cold start over a logging setting.
func levelFromEnv(getenv func(string) string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(getenv("LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
