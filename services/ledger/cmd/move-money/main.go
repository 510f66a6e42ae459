// Command move-money is MoveMoneyFunction: POST /accounts/{accountId}/deposits and /withdrawals.
package main

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/ledger/internal/handlers"
	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("EVENTS_TABLE", "SNAPSHOTS_TABLE", "RECEIPTS_TABLE")
		if err != nil {
			return nil, err
		}
		snapshotEvery, err := envvar.Int("SNAPSHOT_EVERY", 10)
		if err != nil {
			return nil, err
		}
		maxAmount, err := envvar.Int("MAX_AMOUNT", 1_000_000_00)
		if err != nil {
			return nil, err
		}
		maxAttempts, err := envvar.Int("MAX_ATTEMPTS", 10)
		if err != nil {
			return nil, err
		}
		m := metrics.New(os.Stdout, ledger.Namespace, metrics.Dimension{Name: "Service", Value: "ledger"})
		return metrics.Flushed(m, d.Log, handlers.API{
			Accounts: ledger.Ledger{
				Store: ledger.DynamoStore{
					DB: dynamodb.NewFromConfig(d.AWS), EventsTable: env["EVENTS_TABLE"],
					SnapshotsTable: env["SNAPSHOTS_TABLE"], ReceiptsTable: env["RECEIPTS_TABLE"],
					// Each call ends half a second before the invocation would, leaving time to answer.
					Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
				},
				SnapshotEvery: int64(snapshotEvery),
				MaxAttempts:   maxAttempts,
				Backoff:       ledger.JitteredBackoff(10*time.Millisecond, 500*time.Millisecond, rand.Int64N),
				Sleep:         ledger.SleepContext,
				ReceiptTTL:    24 * time.Hour,
				Now:           time.Now,
				// Command IDs: 26 random base32 characters, so two commands never share one.
				NewID:   crand.Text,
				Metrics: m,
			},
			MaxAmount:   int64(maxAmount),
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Move), nil
	})
}
