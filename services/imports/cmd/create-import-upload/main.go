// Command create-import-upload is CreateImportUploadFunction: POST /imports/uploads, a pre-signed
// PUT of a file to import.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/handlers"
	"github.com/go-serverless/reference/services/imports/internal/imports"
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
		return handlers.Upload{
			Uploads: imports.Uploads{
				Presign: s3.NewPresignClient(s3.NewFromConfig(d.AWS)),
				Bucket:  env["IMPORTS_BUCKET"], Expires: uploadExpiry, Now: time.Now,
			},
			Correlation: d.Correlation,
			Log:         d.Log,
		}.Handle, nil
	})
}
