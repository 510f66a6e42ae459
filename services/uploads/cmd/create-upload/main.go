// Command create-upload is CreateUploadFunction: POST /uploads.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
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

// Bounds on the configuration: a signed PUT is short-lived (S3 allows 7 days; a leaked URL should
// be useless within minutes).
const (
	maxURLExpiry = 15 * time.Minute
	// retention is how long an upload that never becomes AVAILABLE is remembered.
	retention = 24 * time.Hour
)

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("UPLOADS_TABLE", "UPLOADS_BUCKET")
		if err != nil {
			return nil, err
		}
		expirySeconds, err := envvar.Int("UPLOAD_URL_EXPIRY_SECONDS", 300)
		if err != nil {
			return nil, err
		}
		expiry := time.Duration(expirySeconds) * time.Second
		if expiry <= 0 || expiry > maxURLExpiry {
			return nil, fmt.Errorf("UPLOAD_URL_EXPIRY_SECONDS must be between 1 and %d", int(maxURLExpiry.Seconds()))
		}
		maxBytes, err := envvar.Int("MAX_UPLOAD_BYTES", 100*1024*1024)
		if err != nil {
			return nil, err
		}
		if maxBytes <= 0 {
			return nil, fmt.Errorf("MAX_UPLOAD_BYTES must be positive")
		}
		types := uploads.DefaultAllowedTypes()
		if v := strings.TrimSpace(os.Getenv("ALLOWED_CONTENT_TYPES")); v != "" {
			types = strings.Split(v, ",")
		}
		calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}
		client := s3.NewFromConfig(d.AWS)
		return handlers.Create{
			Uploads: uploads.Creator{
				Store:     uploads.DynamoStore{DB: dynamodb.NewFromConfig(d.AWS), Table: env["UPLOADS_TABLE"], Calls: calls},
				Signer:    s3objects.Objects{S3: client, Presign: s3.NewPresignClient(client), Bucket: env["UPLOADS_BUCKET"], Calls: calls},
				Policy:    uploads.Policy{AllowedTypes: types, MaxSize: int64(maxBytes)},
				URLExpiry: expiry, Retention: retention,
				Now: time.Now, NewID: uploads.NewID,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
