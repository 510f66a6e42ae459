// Package sources holds the local runner's event sources: one file per AWS integration, each
// knowing that integration's semantics (how events are batched, what a failure means, what is
// retried) and nothing about processes. Every source delivers events the same way, through an
// Invoker, so a new pattern that needs a new integration adds one file here and one line of wiring
// in cmd/runner.
package sources

import (
	"context"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// Invoker runs a function synchronously and returns what it answered; *lambdapool.Pool is one.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) (lambdapool.Result, error)
}
