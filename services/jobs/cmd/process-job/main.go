// Command process-job is ProcessJobFunction: the worker behind the jobs queue.
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
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("JOBS_TABLE", "IDEMPOTENCY_TABLE")
		if err != nil {
			return nil, err
		}
		maxAttempts, err := envvar.Int("MAX_RECEIVE_COUNT", 3)
		if err != nil {
			return nil, err
		}
		db := dynamodb.NewFromConfig(d.AWS)
		// Stop starting work, and interrupt work under way, 2 s before the deadline: enough to
		// record a failure and release a claim.
		margin := budget.Budget{Margin: 2 * time.Second}
		calls := budget.Calls{Budget: margin}
		m := metrics.New(os.Stdout, jobs.Namespace, metrics.Dimension{Name: "Service", Value: "jobs"})
		return metrics.Flushed(m, d.Log, handlers.Process{
			Jobs: jobs.Processor{
				Jobs:        jobs.DynamoStore{DB: db, Table: env["JOBS_TABLE"], Calls: calls},
				Runs:        idempotency.New(db, env["IDEMPOTENCY_TABLE"], idempotency.WithCalls(calls)),
				Work:        jobs.Simulate,
				MaxAttempts: maxAttempts,
				Budget:      margin,
				Now:         time.Now,
				Log:         d.Log,
				Metrics:     m,
			},
			Correlation: d.Correlation,
			Budget:      margin,
			Log:         d.Log,
		}.Handle), nil
	})
}
