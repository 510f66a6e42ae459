package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/correlation"
)

// ObjectVerifier decides an upload from its object (uploads.Verifier).
type ObjectVerifier interface {
	Verify(ctx context.Context, key string) (uploads.Outcome, error)
}

// Verify handles S3 ObjectCreated notifications for the uploads bucket. S3 invokes it
// asynchronously: an error makes Lambda retry the whole event (EventInvokeConfig
// MaximumRetryAttempts) and then send it to the OnFailure queue, so every record is attempted and
// the event fails if any record did. Verification is idempotent, so on a retry a record already
// decided only repeats the decision's effect on its object, which changes nothing.
//
// The bucket comes from each record, not from configuration: the bucket's notification refers to
// this function, so the function cannot refer back to the bucket in the template (a circular
// dependency). Which buckets can reach it is decided by the notification and its IAM policy.
type Verify struct {
	// ForBucket returns the verifier for objects of bucket.
	ForBucket   func(bucket string) ObjectVerifier
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// Handle verifies each ObjectCreated record and ignores the rest.
func (h Verify) Handle(ctx context.Context, event events.S3Event) error {
	ctx = correlation.NewContext(ctx, h.Correlation.New())
	var errs []error
	for _, rec := range event.Records {
		if !strings.HasPrefix(rec.EventName, "ObjectCreated:") || rec.S3.Bucket.Name == "" {
			h.Log.WarnContext(ctx, "notification ignored", "eventName", rec.EventName, "bucket", rec.S3.Bucket.Name)
			continue
		}
		// S3 URL-encodes keys in notifications (a space arrives as '+').
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			h.Log.WarnContext(ctx, "notification with a malformed key ignored", "key", rec.S3.Object.Key)
			continue
		}
		outcome, err := h.ForBucket(rec.S3.Bucket.Name).Verify(ctx, key)
		if err != nil {
			h.Log.ErrorContext(ctx, "verification failed; the event will be retried", "key", key, "error", err)
			errs = append(errs, fmt.Errorf("verify %s: %w", key, err))
			continue
		}
		h.Log.InfoContext(ctx, "object verified", "bucket", rec.S3.Bucket.Name, "key", key, "outcome", outcome)
	}
	return errors.Join(errs...)
}
