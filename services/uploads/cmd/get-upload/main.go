// Command get-upload is GetUploadFunction: GET /uploads/{uploadId}.
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
		return handlers.Get{
			// No Signer: this function only reads records; it cannot sign downloads.
			Uploads: uploads.Reader{
				Store: uploads.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["UPLOADS_TABLE"], Calls: budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}},
				Now:   time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
