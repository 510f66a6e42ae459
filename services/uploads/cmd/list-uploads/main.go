// Command list-uploads is ListUploadsFunction: GET /uploads.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/uploads/internal/handlers"
	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("UPLOADS_TABLE")
		if err != nil {
			return nil, err
		}
		return handlers.List{
			// Only the owner index is read: this function can neither sign nor write.
			Uploads:     uploads.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["UPLOADS_TABLE"], Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
