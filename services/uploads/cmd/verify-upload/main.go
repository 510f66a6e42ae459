// Command verify-upload is VerifyUploadFunction: S3 ObjectCreated notifications for uploads/.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/uploads/internal/handlers"
	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/services/uploads/internal/uploads/s3objects"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
	"github.com/go-serverless/reference/shared/metrics"
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("UPLOADS_TABLE")
		if err != nil {
			return nil, err
		}
		// Each call ends 1 s before the invocation would: time to log the failure, so the retry that
		// follows is explained.
		calls := budget.Calls{Budget: budget.Budget{Margin: time.Second}}
		client := s3.NewFromConfig(d.AWS)
		store := uploads.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["UPLOADS_TABLE"], Calls: calls}
		m := metrics.New(os.Stdout, uploads.Namespace, metrics.Dimension{Name: "Service", Value: "uploads"})
		return metrics.FlushedErr(m, d.Log, handlers.Verify{
			// The bucket comes from the S3 record (see handlers.Verify for why it is not configured).
			ForBucket: func(bucket string) handlers.ObjectVerifier {
				return uploads.Verifier{
					Store:   store,
					Objects: s3objects.Objects{S3: client, Bucket: bucket, Calls: calls},
					Now:     time.Now,
					Log:     d.Log,
					Metrics: m,
				}
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle), nil
	})
}
