// Command process-import is ProcessImportFunction: one link of an import's chain of invocations,
// which invokes itself asynchronously to continue.
package main

import (
	"context"
	"os"
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
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		// AWS_LAMBDA_FUNCTION_NAME is set by Lambda: the function continues by invoking itself.
		env, err := envvar.Require("IMPORTS_TABLE", "ORDERS_TABLE", "REJECTS_TABLE", "AWS_LAMBDA_FUNCTION_NAME")
		if err != nil {
			return nil, err
		}
		maxDepth, err := envvar.Int("MAX_DEPTH", imports.DefaultMaxDepth)
		if err != nil {
			return nil, err
		}
		batchLines, err := envvar.Int("BATCH_LINES", imports.DefaultBatchLines)
		if err != nil {
			return nil, err
		}
		maxLines, err := envvar.Int("MAX_LINES_PER_INVOCATION", 0)
		if err != nil {
			return nil, err
		}
		// Calls to DynamoDB end 2 s before the invocation would; the hand-over (one Invoke) has
		// the same 2 s: a batch starts only if it and the hand-over fit.
		margin := budget.Budget{Margin: 2 * time.Second}
		m := metrics.New(os.Stdout, imports.Namespace, metrics.Dimension{Name: "Service", Value: "imports"})
		return metrics.FlushedErr(m, d.Log, handlers.Process{
			Imports: imports.Processor{
				Store: dynamostore.Store{
					DB:           dynamodb.NewFromConfig(d.AWS),
					ImportsTable: env["IMPORTS_TABLE"], OrdersTable: env["ORDERS_TABLE"], RejectsTable: env["REJECTS_TABLE"],
					Calls: budget.Calls{Budget: budget.Budget{Margin: time.Second}, Timeout: imports.CallTimeout},
				},
				Objects:    s3objects.Objects{S3: s3.NewFromConfig(d.AWS), Calls: budget.Calls{Budget: margin, Timeout: imports.CallTimeout}},
				Next:       lambdainvoke.Continuer{Lambda: lambdainvoke.New(d.AWS), Function: env["AWS_LAMBDA_FUNCTION_NAME"], Calls: budget.Calls{Timeout: imports.CallTimeout}},
				Budget:     margin,
				BatchLines: batchLines,
				MaxLines:   int64(maxLines),
				MaxDepth:   maxDepth,
				Now:        time.Now,
				Log:        d.Log,
				Metrics:    m,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle), nil
	})
}
