// Command submit-batch is SubmitBatchFunction: POST /batches, the ventilator.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/services/fanout/internal/fanout/sqsqueue"
	"github.com/go-serverless/reference/services/fanout/internal/handlers"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// batchRetention is how long a batch record is kept after submission (the table's TTL).
const batchRetention = 7 * 24 * time.Hour

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("FANOUT_TABLE", "TASKS_QUEUE_URL")
		if err != nil {
			return nil, err
		}
		sizing, err := readSizing()
		if err != nil {
			return nil, err
		}
		// Every AWS call ends a second before the invocation would, leaving time to answer 500.
		calls := budget.Calls{Budget: budget.Budget{Margin: time.Second}}
		return handlers.Submit{
			Batches: fanout.Submitter{
				Batches:       fanout.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["FANOUT_TABLE"], Calls: calls},
				Queue:         sqsqueue.TaskQueue{SQS: sqs.NewFromConfig(d.AWS), URL: env["TASKS_QUEUE_URL"], Calls: calls},
				PublishWithin: sizing.PublishWithin,
				Deadline:      sizing.Deadline(),
				Retention:     batchRetention,
				Now:           time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}

// readSizing reads the fan-out's window and the retries of the queues a batch goes through, from
// which the batch deadline is derived. The template sets each variable from the same Mappings entry
// as the queue's own property; the defaults are the production sizing (fanout.DefaultSizing).
func readSizing() (fanout.Sizing, error) {
	def := fanout.DefaultSizing()
	publishWithin, err := envvar.Int("PUBLISH_WITHIN_SECONDS", int(def.PublishWithin.Seconds()))
	if err != nil {
		return fanout.Sizing{}, err
	}
	s := fanout.Sizing{PublishWithin: time.Duration(publishWithin) * time.Second}
	for _, q := range []struct {
		prefix string
		into   *fanout.QueueRetries
		def    fanout.QueueRetries
	}{
		{"TASKS_QUEUE", &s.Tasks, def.Tasks},
		{"TASKS_DEAD_LETTER_QUEUE", &s.TasksDeadLetter, def.TasksDeadLetter},
		{"SINK_QUEUE", &s.Sink, def.Sink},
	} {
		count, err := envvar.Int(q.prefix+"_MAX_RECEIVE_COUNT", q.def.MaxReceiveCount)
		if err != nil {
			return fanout.Sizing{}, err
		}
		visibility, err := envvar.Int(q.prefix+"_VISIBILITY_TIMEOUT_SECONDS", int(q.def.VisibilityTimeout.Seconds()))
		if err != nil {
			return fanout.Sizing{}, err
		}
		*q.into = fanout.QueueRetries{MaxReceiveCount: count, VisibilityTimeout: time.Duration(visibility) * time.Second}
	}
	if err := s.Validate(); err != nil {
		return fanout.Sizing{}, fmt.Errorf("batch deadline sizing: %w", err)
	}
	return s, nil
}
