// Command aggregate-batch is AggregateBatchFunction: the sink that joins a finished batch.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("FANOUT_TABLE")
		if err != nil {
			return nil, err
		}
		margin := budget.Budget{Margin: 2 * time.Second}
		m := metrics.New(os.Stdout, fanout.Namespace, metrics.Dimension{Name: "Service", Value: "fanout"})
		return metrics.Flushed(m, d.Log, handlers.Aggregate{
			Batches: fanout.Aggregator{
				// Reading 10,000 results takes a few pages; each page gets its own call timeout.
				Results: fanout.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"], Calls: budget.Calls{Budget: margin, Timeout: 5 * time.Second}},
				Now:     time.Now,
				Log:     d.Log,
				Metrics: m,
			},
			Correlation: d.Correlation,
			Budget:      margin,
			Log:         d.Log,
		}.Handle), nil
	})
}
