// Command get-quote is GetQuoteFunction: GET /quotes/{quoteId}, a quote once the worker has
// priced it. It evaluates no flag: the quote names the engine that priced it.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("QUOTES_TABLE")
		if err != nil {
			return nil, err
		}
		return handlers.GetQuote{
			Quotes: quotes.Reader{Store: quotes.DynamoStore{
				DB: dynamodb.NewFromConfig(d.AWS), Table: env["QUOTES_TABLE"], Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
			}},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
