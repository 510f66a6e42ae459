// Command create-import-upload is CreateImportUploadFunction: POST /imports/uploads, a pre-signed
// PUT of a file to import.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/handlers"
	"github.com/go-serverless/reference/services/imports/internal/imports/s3objects"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/envvar"
)

// uploadExpiry is how long a signed PUT stays valid.
const uploadExpiry = 15 * time.Minute

func main() {
	coldstart.Start(func(_ context.Context, d coldstart.Deps) (any, error) {
		env, err := envvar.Require("IMPORTS_BUCKET")
		if err != nil {
			return nil, err
		}
		maxSize, err := envvar.Int("MAX_UPLOAD_BYTES", handlers.DefaultMaxUploadBytes)
		if err != nil {
			return nil, err
		}
		if maxSize <= 0 {
			return nil, fmt.Errorf("MAX_UPLOAD_BYTES must be above 0, not %d", maxSize)
		}
		return handlers.Upload{
			Uploads: s3objects.Uploads{
				Presign: s3.NewPresignClient(s3.NewFromConfig(d.AWS)),
				Bucket:  env["IMPORTS_BUCKET"], Expires: uploadExpiry, Now: time.Now,
			},
			MaxSize:     int64(maxSize),
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
