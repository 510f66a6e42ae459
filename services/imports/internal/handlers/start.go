package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/correlation"
)

// Start handles the S3 notifications of files created under imports/: each starts (or, for a
// duplicated notification, finds) the import of that version of the file.
type Start struct {
	Imports     ImportStarter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// Handle starts an import per record. An error makes Lambda retry the whole event (S3 invokes
// asynchronously); records already started are found again, not started twice.
func (h Start) Handle(ctx context.Context, event events.S3Event) error {
	ctx = correlation.NewContext(ctx, h.Correlation.New())
	for _, rec := range event.Records {
		if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			continue
		}
		// S3 URL-encodes keys in notifications (a space arrives as "+").
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			h.Log.ErrorContext(ctx, "notification with an undecodable key ignored", "key", rec.S3.Object.Key)
			continue
		}
		owner, ok := imports.OwnerOf(key)
		if !ok {
			h.Log.WarnContext(ctx, "file outside imports/{owner}/ ignored", "key", key)
			continue
		}
		obj := imports.Object{Bucket: rec.S3.Bucket.Name, Key: key, ETag: rec.S3.Object.ETag, Size: rec.S3.Object.Size}
		imp, created, err := h.Imports.Start(ctx, owner, obj)
		if err != nil {
			return fmt.Errorf("start import of s3://%s/%s: %w", obj.Bucket, key, err)
		}
		h.Log.InfoContext(ctx, "import started", "importId", imp.ID, "key", key, "size", obj.Size, "new", created, "status", imp.Status)
	}
	return nil
}
