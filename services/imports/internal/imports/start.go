package imports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/correlation"
)

// Object is one version of a file to import.
type Object struct {
	Bucket, Key, ETag string
	Size              int64
}

// Starter records a new import and starts its chain.
type Starter struct {
	Store Store
	Next  Continuer
	// Retention is how long an import record is kept (the table's TTL).
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Start starts importing obj for owner, once per version of the object: a second Start for the
// same bucket, key and ETag returns the existing import (created false). A file whose format is
// not supported is recorded FAILED, so its owner can see why nothing was imported.
func (s Starter) Start(ctx context.Context, owner string, obj Object) (imp Import, created bool, err error) {
	now := clock.Now(s.Now).UTC()
	imp = Import{
		ID: ID(obj.Bucket, obj.Key, obj.ETag), Owner: owner,
		Bucket: obj.Bucket, Key: obj.Key, ETag: NormalizeETag(obj.ETag), Size: obj.Size,
		Status: StatusRunning, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.Retention).Unix(),
	}
	format, ok := FormatOf(obj.Key)
	if ok {
		imp.Format = format
	} else {
		imp.Status, imp.Failure, imp.FinishedAt = StatusFailed, "unsupported file type: the key must end in .csv, .ndjson or .jsonl", &now
	}
	err = s.Store.Create(ctx, imp)
	if errors.Is(err, ErrConflict) {
		existing, err := s.Store.Get(ctx, imp.ID)
		if err != nil {
			return Import{}, false, err
		}
		// A start that failed after writing the record may not have invoked the chain: start it
		// again until some invocation has claimed the import. A duplicate first link is harmless
		// (see Processor).
		if existing.Status == StatusRunning && existing.Invocations == 0 {
			if err := s.continueAt0(ctx, existing.ID); err != nil {
				return Import{}, false, err
			}
		}
		return existing, false, nil
	}
	if err != nil {
		return Import{}, false, err
	}
	if imp.Status == StatusRunning {
		if err := s.continueAt0(ctx, imp.ID); err != nil {
			return Import{}, false, err
		}
	}
	return imp, true, nil
}

func (s Starter) continueAt0(ctx context.Context, id string) error {
	if err := s.Next.Continue(ctx, Link{Carrier: correlation.CarrierFrom(ctx), ImportID: id}); err != nil {
		return fmt.Errorf("start the chain of import %s: %w", id, err)
	}
	return nil
}
