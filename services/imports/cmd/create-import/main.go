// Command create-import is CreateImportFunction: POST /imports, the import of a file the caller
// uploaded.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/handlers"
	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/services/imports/internal/imports/lambdainvoke"
	"github.com/go-serverless/reference/services/imports/internal/imports/s3objects"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// importRetention is how long an import record is kept (the table's TTL).
const importRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("IMPORTS_TABLE", "IMPORTS_BUCKET", "PROCESS_IMPORT_FUNCTION")
		if err != nil {
			return nil, err
		}
		// Every AWS call ends half a second before the invocation would, leaving time to answer.
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}, Timeout: imports.CallTimeout}
		return handlers.Create{
			Imports: imports.Starter{
				Store:     dynamostore.Store{DB: dynamodb.NewFromConfig(d.AWS), ImportsTable: env["IMPORTS_TABLE"], Calls: calls},
				Next:      lambdainvoke.Continuer{Lambda: lambdainvoke.New(d.AWS), Function: env["PROCESS_IMPORT_FUNCTION"], Calls: calls},
				Retention: importRetention,
				Now:       time.Now,
			},
			Objects:     s3objects.Objects{S3: s3.NewFromConfig(d.AWS), Calls: calls},
			Bucket:      env["IMPORTS_BUCKET"],
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
