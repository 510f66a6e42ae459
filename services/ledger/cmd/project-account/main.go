// Command project-account is ProjectAccountFunction: the events table's stream in, the accounts
// read model and the domain-events topic out.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/go-serverless/reference/services/ledger/internal/handlers"
	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/services/ledger/internal/ledger/snstopic"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("ACCOUNTS_TABLE", "EVENTS_TOPIC_ARN")
		if err != nil {
			return nil, err
		}
		// Stop starting records 2 s before the deadline: the rest are reported and come back.
		margin := budget.Budget{Margin: 2 * time.Second}
		calls := budget.Calls{Budget: margin}
		return handlers.Project{
			Projector: ledger.Projector{
				ReadModel: ledger.ReadModel{DB: dynamodb.NewFromConfig(d.AWS), Table: env["ACCOUNTS_TABLE"], Calls: calls},
				Publisher: snstopic.Publisher{SNS: sns.NewFromConfig(d.AWS, snstopic.RetryKMSThrottling), TopicARN: env["EVENTS_TOPIC_ARN"], Calls: calls},
			},
			Budget: margin,
			Log:    d.Log,
		}.Handle, nil
	})
}
