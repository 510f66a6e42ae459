// Command start-import is StartImportFunction: S3 notifications of files created under imports/.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/imports/internal/handlers"
	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/services/imports/internal/imports/lambdainvoke"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// importRetention is how long an import record is kept (the table's TTL).
const importRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("IMPORTS_TABLE", "PROCESS_IMPORT_FUNCTION")
		if err != nil {
			return nil, err
		}
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}, Timeout: imports.CallTimeout}
		return handlers.Start{
			Imports: imports.Starter{
				Store:     dynamostore.Store{DB: dynamodb.NewFromConfig(d.AWS), ImportsTable: env["IMPORTS_TABLE"], Calls: calls},
				Next:      lambdainvoke.Continuer{Lambda: lambdainvoke.New(d.AWS), Function: env["PROCESS_IMPORT_FUNCTION"], Calls: calls},
				Retention: importRetention,
				Now:       time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
