// Command get-batch is GetBatchFunction: GET /batches/{batchId}.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("FANOUT_TABLE")
		if err != nil {
			return nil, err
		}
		return handlers.Get{
			Batches: fanout.Reader{
				Batches: fanout.DynamoStore{
					DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"],
					Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
				},
				Now: time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
