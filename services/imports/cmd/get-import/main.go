// Command get-import is GetImportFunction: GET /imports/{importId}.
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
		env, err := envvar.Require("IMPORTS_TABLE", "REJECTS_TABLE")
		if err != nil {
			return nil, err
		}
		store := dynamostore.Store{
			DB: dynamodb.NewFromConfig(d.AWS), ImportsTable: env["IMPORTS_TABLE"], RejectsTable: env["REJECTS_TABLE"],
			Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}, Timeout: imports.CallTimeout},
		}
		return handlers.Get{Imports: imports.Reader{Store: store}, Correlation: d.Correlation, Log: d.Log}.Handle, nil
	})
}
