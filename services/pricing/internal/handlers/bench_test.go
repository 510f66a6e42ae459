package handlers

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/flags/launchdarkly"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// BenchmarkPrice measures one GET /prices/{sku} as the function runs it: flag evaluation with
// the real SDK (on the committed flags file), pricing, the response, a log line and the EMF line.
func BenchmarkPrice(b *testing.B) {
	log := lambdatest.QuietLogger()
	ld, err := launchdarkly.Open(launchdarkly.Config{Source: launchdarkly.File, FlagsFile: filepath.Join("..", "..", "flags.json"), StartWait: 5 * time.Second, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer ld.Close()
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(b, testdata+"get-price.json", &req)
	h := Price{Flags: ld, Metrics: canary.NewRecorder(io.Discard, "pricing", time.Now), Now: time.Now, Log: log}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := h.Handle(ctx, req); resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkEvaluate measures the flag evaluation alone, over many users (the rollout path).
func BenchmarkEvaluate(b *testing.B) {
	log := lambdatest.QuietLogger()
	ld, err := launchdarkly.Open(launchdarkly.Config{Source: launchdarkly.File, FlagsFile: filepath.Join("..", "..", "flags.json"), StartWait: 5 * time.Second, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer ld.Close()
	users := make([]flags.User, 1024)
	for i := range users {
		users[i] = flags.User{Key: fmt.Sprintf("user-%d", i), Plan: "free", Region: "eu-west-1"}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ld.Evaluate(ctx, users[i%len(users)])
		i++
	}
}
