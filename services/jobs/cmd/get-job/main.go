// Command get-job is GetJobFunction: GET /jobs/{jobId}.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/jobs/internal/handlers"
	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("JOBS_TABLE")
		if err != nil {
			return nil, err
		}
		store := jobs.DynamoStore{
			DB: dynamodb.NewFromConfig(d.AWS), Table: env["JOBS_TABLE"],
			Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
		}
		m := metrics.New(os.Stdout, jobs.Namespace, metrics.Dimension{Name: "Service", Value: "jobs"})
		return metrics.Flushed(m, d.Log, handlers.Get{
			Jobs:        jobs.Reader{Jobs: store, Now: time.Now, Metrics: m},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle), nil
	})
}
