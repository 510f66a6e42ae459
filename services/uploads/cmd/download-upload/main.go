// Command download-upload is DownloadUploadFunction: GET /uploads/{uploadId}/download.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/uploads/internal/handlers"
	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/services/uploads/internal/uploads/s3objects"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// maxDownloadExpiry bounds the configuration: a download link is for now, not for sharing.
const maxDownloadExpiry = 15 * time.Minute

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("UPLOADS_TABLE", "UPLOADS_BUCKET")
		if err != nil {
			return nil, err
		}
		expirySeconds, err := envvar.Int("DOWNLOAD_URL_EXPIRY_SECONDS", 60)
		if err != nil {
			return nil, err
		}
		expiry := time.Duration(expirySeconds) * time.Second
		if expiry <= 0 || expiry > maxDownloadExpiry {
			return nil, fmt.Errorf("DOWNLOAD_URL_EXPIRY_SECONDS must be between 1 and %d", int(maxDownloadExpiry.Seconds()))
		}
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}
		client := s3.NewFromConfig(d.AWS)
		return handlers.Download{
			Uploads: uploads.Reader{
				Store:          uploads.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["UPLOADS_TABLE"], Calls: calls},
				Signer:         s3objects.Objects{S3: client, Presign: s3.NewPresignClient(client), Bucket: env["UPLOADS_BUCKET"], Calls: calls},
				DownloadExpiry: expiry,
				Now:            time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
