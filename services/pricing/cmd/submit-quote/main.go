// Command submit-quote is SubmitQuoteFunction: POST /quotes. It decides the engine with the
// pricing-engine flag and queues the quote with that decision.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags/launchdarkly"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/services/pricing/internal/quotes/sqsqueue"
	"github.com/go-serverless/reference/services/pricing/internal/ssmparam"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/idempotency"
)

// quoteRetention is how long a priced quote is kept (the quotes table's TTL, set by the worker).
const quoteRetention = 7 * 24 * time.Hour

func main() {
	// No lambda.WithEnableSIGTERM to close the flag client at shutdown (see get-price).
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("QUOTES_QUEUE_URL", "IDEMPOTENCY_TABLE")
		if err != nil {
			return nil, err
		}
		settings, err := launchdarkly.SettingsFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		db := dynamodb.NewFromConfig(d.AWS)
		// The flag client starts in the background: the cold start waits neither for SSM nor for
		// LaunchDarkly. The idempotency table's DynamoDB client serves the daemon mode's store too.
		clients := launchdarkly.Clients{DynamoDB: db}
		if settings.Source != launchdarkly.File {
			// The SDK key, read without the SDK's SSM client (package ssmparam says why).
			clients.SSM = ssmparam.New(d.AWS)
		}
		ev := launchdarkly.Start(settings, clients, d.Log)
		// Every AWS call ends half a second before the invocation would, leaving time to answer
		// 500 (and release the Idempotency-Key) instead of being killed mid-request.
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}
		return handlers.SubmitQuote{
			Quotes: quotes.Submitter{Queue: sqsqueue.Queue{SQS: sqs.NewFromConfig(d.AWS), URL: env["QUOTES_QUEUE_URL"], Calls: calls}},
			// Keys are remembered as long as the quotes they name, so a key is never reused for
			// another quote while its quote can still be read.
			Idempotency: idempotency.New(db, env["IDEMPOTENCY_TABLE"], idempotency.WithTTL(quoteRetention), idempotency.WithCalls(calls)),
			Flags:       ev,
			Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
			Correlation: d.Correlation,
			Now:         time.Now,
			Log:         d.Log,
		}.Handle, nil
	})
}
