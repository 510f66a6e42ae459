package uploads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/metrics"
)

// ObjectInfo is what HEAD tells about an object.
type ObjectInfo struct {
	Size        int64
	ContentType string
	// SHA256 is the stored full-object checksum, base64; empty when S3 has none.
	SHA256 string
}

// ObjectStore reads and removes uploaded objects (s3objects.Objects is one).
type ObjectStore interface {
	// Head returns the object's metadata with its checksum; ErrObjectNotFound if it is gone.
	Head(ctx context.Context, key string) (ObjectInfo, error)
	// ReadHead returns up to n bytes from the start of the object.
	ReadHead(ctx context.Context, key string, n int) ([]byte, error)
	// Open streams the whole object; ErrObjectNotFound if it is gone.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting a missing object succeeds.
	Delete(ctx context.Context, key string) error
	// Keep marks the object verified, so the bucket's lifecycle rule for unverified objects
	// leaves it alone.
	Keep(ctx context.Context, key string) error
}

// Outcome is what a verification did.
type Outcome string

// The outcomes of Verify.
const (
	OutcomeAvailable Outcome = "AVAILABLE"
	OutcomeRejected  Outcome = "REJECTED"
	// OutcomeDuplicate: the upload was already verified; its record is unchanged and the
	// object was kept or deleted again to match the decision.
	OutcomeDuplicate Outcome = "DUPLICATE"
	// OutcomeOrphan: no upload record names the object; it was deleted.
	OutcomeOrphan Outcome = "ORPHAN"
	// OutcomeIgnored: the key is not one this service makes; nothing was touched.
	OutcomeIgnored Outcome = "IGNORED"
)

// Verifier checks an object S3 reports as created against its upload's declaration.
type Verifier struct {
	Store   Store
	Objects ObjectStore
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts the uploads accepted and rejected; nil records nothing.
	Metrics Metrics
}

// Verify decides an upload from its object: AVAILABLE when size, type and checksum are as
// declared and the content passes its type's check (CheckSignature for binary types, CheckText
// for text); otherwise the object is deleted and the upload REJECTED. It is idempotent: a
// duplicate notification, or a retry after a failure part-way, finds the upload no longer
// PENDING (and only repeats the decision's side effect on the object) or repeats steps that are
// safe to repeat. The order makes every crash point safe: an object is deleted before its upload
// is marked REJECTED (a retry then finds it gone and marks REJECTED), and kept before its upload
// is marked AVAILABLE (a retry keeps it again). An error means "retry me".
func (v Verifier) Verify(ctx context.Context, key string) (Outcome, error) {
	id, ok := IDFromKey(key)
	if !ok {
		v.Log.WarnContext(ctx, "object key is not an upload's; ignored", "key", key)
		return OutcomeIgnored, nil
	}
	u, err := v.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && u.Key != key {
		// Only this service signs writes under the prefix, so this is an object nobody can claim
		// (its record expired, or it is not the key that was signed): remove it.
		if err := v.Objects.Delete(ctx, key); err != nil {
			return "", fmt.Errorf("delete orphan object %s: %w", key, err)
		}
		v.Log.WarnContext(ctx, "object without an upload record deleted", "key", key)
		return OutcomeOrphan, nil
	}
	if err != nil {
		return "", fmt.Errorf("read upload %s: %w", id, err)
	}
	if u.Status != StatusPending {
		if err := v.reapply(ctx, u); err != nil {
			return "", err
		}
		v.Log.InfoContext(ctx, "upload already verified; decision applied to the object again", "uploadId", id, "status", u.Status)
		return OutcomeDuplicate, nil
	}

	reason, err := v.check(ctx, u)
	if err != nil {
		return "", err
	}
	if reason != "" {
		if err := v.Objects.Delete(ctx, key); err != nil {
			return "", fmt.Errorf("delete rejected object %s: %w", key, err)
		}
		if won, err := v.finish(ctx, id, StatusRejected, reason); err != nil {
			return "", err
		} else if !won {
			return OutcomeDuplicate, nil
		}
		v.Log.InfoContext(ctx, "upload rejected", "uploadId", id, "reason", reason)
		return OutcomeRejected, nil
	}
	if err := v.Objects.Keep(ctx, key); err != nil {
		return "", fmt.Errorf("keep object %s: %w", key, err)
	}
	if won, err := v.finish(ctx, id, StatusAvailable, ""); err != nil {
		return "", err
	} else if !won {
		return OutcomeDuplicate, nil
	}
	v.Log.InfoContext(ctx, "upload available", "uploadId", id, "size", u.Size)
	return OutcomeAvailable, nil
}

// reapply repeats, for an upload already decided, what the decision did to its object. A
// notification for a decided upload is not always a duplicate of the first: a signed PUT URL
// works until it expires, so a client retrying after a lost 200 writes the object again, and
// that write carries the pending tag the lifecycle rule expires. The signature covers the
// checksum, so the body is the one already decided on: keeping (untagging) it again or deleting
// it again is what the decision means, and both are safe to repeat.
func (v Verifier) reapply(ctx context.Context, u Upload) error {
	switch u.Status {
	case StatusAvailable:
		if err := v.Objects.Keep(ctx, u.Key); err != nil {
			return fmt.Errorf("keep object %s of AVAILABLE upload again: %w", u.Key, err)
		}
	case StatusRejected:
		if err := v.Objects.Delete(ctx, u.Key); err != nil {
			return fmt.Errorf("delete object %s of REJECTED upload again: %w", u.Key, err)
		}
	}
	return nil
}

// check returns why the object does not match the upload, or "" when it does.
func (v Verifier) check(ctx context.Context, u Upload) (string, error) {
	info, err := v.Objects.Head(ctx, u.Key)
	if errors.Is(err, ErrObjectNotFound) {
		return "the object is missing", nil
	}
	if err != nil {
		return "", fmt.Errorf("head object %s: %w", u.Key, err)
	}
	switch {
	case info.Size != u.Size:
		return fmt.Sprintf("size is %d bytes, declared %d", info.Size, u.Size), nil
	case info.ContentType != u.ContentType:
		return fmt.Sprintf("content type is %q, declared %q", info.ContentType, u.ContentType), nil
	case info.SHA256 != u.SHA256:
		return "SHA-256 checksum differs from the declared one", nil
	}
	return v.checkContent(ctx, u)
}

// checkContent returns why the object's content is not what its declared type says, or "": a
// binary type is checked by the signature its first bytes must start with, a text type by
// reading the whole body.
func (v Verifier) checkContent(ctx context.Context, u Upload) (string, error) {
	if !IsText(u.ContentType) {
		head, err := v.Objects.ReadHead(ctx, u.Key, SniffBytes)
		if errors.Is(err, ErrObjectNotFound) {
			return "the object is missing", nil
		}
		if err != nil {
			return "", fmt.Errorf("read start of object %s: %w", u.Key, err)
		}
		return CheckSignature(u.ContentType, head), nil
	}
	body, err := v.Objects.Open(ctx, u.Key)
	if errors.Is(err, ErrObjectNotFound) {
		return "the object is missing", nil
	}
	if err != nil {
		return "", fmt.Errorf("open object %s: %w", u.Key, err)
	}
	defer body.Close()
	reason, err := CheckText(u.ContentType, body)
	if err != nil {
		return "", fmt.Errorf("check text of object %s: %w", u.Key, err)
	}
	return reason, nil
}

// finish records the decision; losing the race to a concurrent verification of the same upload
// is not an error (the other one decided from the same object).
func (v Verifier) finish(ctx context.Context, id string, status Status, reason string) (won bool, err error) {
	err = v.Store.Finish(ctx, id, status, reason, clock.Now(v.Now).UTC())
	if errors.Is(err, ErrConflict) {
		// Another verification decided first, and logged and counted it; this one did the same
		// to the object (the decision follows from the content).
		v.Log.InfoContext(ctx, "upload decided by another verification", "uploadId", id)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark upload %s %s: %w", id, status, err)
	}
	if v.Metrics != nil {
		metric := MetricAccepted
		if status == StatusRejected {
			metric = MetricRejected
		}
		v.Metrics.Add(metric, metrics.Count, 1)
	}
	return true, nil
}
