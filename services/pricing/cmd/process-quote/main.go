// Command process-quote is ProcessQuoteFunction: the worker behind the quotes queue. It prices
// each quote with the engine the message carries and has no flag client at all.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// quoteRetention is how long a priced quote is kept (the table's TTL).
const quoteRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("QUOTES_TABLE")
		if err != nil {
			return nil, err
		}
		// Stop starting messages 2 s before the deadline; the rest come back in another invocation.
		margin := budget.Budget{Margin: 2 * time.Second}
		return handlers.ProcessQuotes{
			Quotes: quotes.Worker{
				Store:     quotes.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["QUOTES_TABLE"], Calls: budget.Calls{Budget: margin}},
				Retention: quoteRetention,
				Now:       time.Now,
			},
			Metrics:     canary.NewRecorder(os.Stdout, "pricing", time.Now),
			Correlation: d.Correlation,
			Budget:      margin,
			Now:         time.Now,
			Log:         d.Log,
		}.Handle, nil
	})
}
