// Command open-account is OpenAccountFunction: POST /accounts.
package main

import (
	"context"
	"crypto/rand"
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
		m := metrics.New(os.Stdout, ledger.Namespace, metrics.Dimension{Name: "Service", Value: "ledger"})
		return metrics.Flushed(m, d.Log, handlers.API{
			Accounts: ledger.Ledger{
				Store: ledger.DynamoStore{
					DB: dynamodb.NewFromConfig(d.AWS), EventsTable: env["EVENTS_TABLE"],
					SnapshotsTable: env["SNAPSHOTS_TABLE"], ReceiptsTable: env["RECEIPTS_TABLE"],
					Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}},
				},
				SnapshotEvery: int64(snapshotEvery),
				ReceiptTTL:    24 * time.Hour,
				Now:           time.Now,
				// 26 random base32 characters: 130 bits, unguessable, safe in a URL path.
				NewID:   rand.Text,
				Metrics: m,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Open), nil
	})
}
