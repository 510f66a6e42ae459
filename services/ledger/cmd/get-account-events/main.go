// Command get-account-events is GetAccountEventsFunction: GET /accounts/{accountId}/events.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/ledger/internal/handlers"
	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("EVENTS_TABLE")
		if err != nil {
			return nil, err
		}
		return handlers.API{
			Accounts: ledger.Ledger{
				Store: ledger.DynamoStore{
					DB: dynamodb.NewFromConfig(d.AWS), EventsTable: env["EVENTS_TABLE"],
					Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
				},
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.History, nil
	})
}
