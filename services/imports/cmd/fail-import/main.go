// Command fail-import is FailImportFunction: the consumer of the imports failure queue, where
// Lambda sends the chain's invocations that failed every attempt.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/imports/internal/handlers"
	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("IMPORTS_TABLE")
		if err != nil {
			return nil, err
		}
		margin := budget.Budget{Margin: time.Second}
		store := dynamostore.Store{DB: dynamodb.NewFromConfig(d.AWS), ImportsTable: env["IMPORTS_TABLE"], Calls: budget.Calls{Budget: margin, Timeout: imports.CallTimeout}}
		return handlers.Fail{
			Imports:     imports.ChainGuard{Store: store, Now: time.Now},
			Correlation: d.Correlation,
			Budget:      margin,
			Log:         d.Log,
		}.Handle, nil
	})
}
