// Command submit-job is SubmitJobFunction: POST /jobs.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/jobs/internal/handlers"
	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/services/jobs/internal/jobs/sqsqueue"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/metrics"
)

// jobRetention is how long a job record is kept after submission (the table's TTL).
const jobRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("JOBS_TABLE", "JOBS_QUEUE_URL", "IDEMPOTENCY_TABLE")
		if err != nil {
			return nil, err
		}
		deadline, err := envvar.Int("JOB_DEADLINE_SECONDS", 900)
		if err != nil {
			return nil, err
		}
		db := dynamodb.NewFromConfig(d.AWS)
		// Every AWS call ends half a second before the invocation would, leaving time to answer
		// 500 (and release the Idempotency-Key) instead of being killed mid-request.
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}
		m := metrics.New(os.Stdout, jobs.Namespace, metrics.Dimension{Name: "Service", Value: "jobs"})
		return metrics.Flushed(m, d.Log, handlers.Submit{
			Jobs: jobs.Submitter{
				Jobs:      jobs.DynamoStore{DB: db, Table: env["JOBS_TABLE"], Calls: calls},
				Queue:     sqsqueue.Queue{SQS: sqs.NewFromConfig(d.AWS), URL: env["JOBS_QUEUE_URL"], Calls: calls},
				Deadline:  time.Duration(deadline) * time.Second,
				Retention: jobRetention,
				Now:       time.Now,
				Metrics:   m,
			},
			// Keys are remembered as long as the jobs they name, so a key is never reused for a
			// different job while that job can still be read.
			Idempotency: idempotency.New(db, env["IDEMPOTENCY_TABLE"], idempotency.WithTTL(jobRetention), idempotency.WithCalls(calls)),
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle), nil
	})
}
