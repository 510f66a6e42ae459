package imports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// FirstRejects is how many rejects a status read returns.
const FirstRejects = 10

// View is what the owner of an import sees.
type View struct {
	Import
	// Rejects are the first FirstRejects rejected lines, by line number.
	Rejects []Reject
}

// Reader reads imports for their owners.
type Reader struct {
	Store Store
}

// Get returns the owner's import with its first rejects; ErrNotFound for anyone else's, so the
// answer never says whether an id exists.
func (r Reader) Get(ctx context.Context, owner, id string) (View, error) {
	imp, err := r.Store.Get(ctx, id)
	if err != nil {
		return View{}, err
	}
	if imp.Owner != owner {
		return View{}, ErrNotFound
	}
	v := View{Import: imp}
	if imp.Rejected > 0 {
		v.Rejects, err = r.Store.Rejects(ctx, id, FirstRejects)
		if err != nil {
			return View{}, fmt.Errorf("read rejects of import %s: %w", id, err)
		}
	}
	return v, nil
}

// ChainGuard records an import FAILED when its chain broke: an invocation failed every attempt
// Lambda made, and Lambda sent the link to the chain's OnFailure destination.
type ChainGuard struct {
	Store Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Broken fails the import link belongs to, with the checkpoint it stopped at, unless the chain
// has moved on (a later hop claimed it, or it finished): then the failed link was a duplicate
// and nothing is lost.
//
// The failure recorded is a sentence for the import's owner, who reads it on GET /imports/{id}.
// cause, Lambda's account of the failed invocation (its condition and the last error, which can
// name the bucket, S3 request ids and SDK text), is not part of it: it is for the caller's log.
func (g ChainGuard) Broken(ctx context.Context, link Link, cause string) (failed bool, err error) {
	imp, err := g.Store.Get(ctx, link.ImportID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if imp.Status != StatusRunning || imp.Depth > link.Depth {
		return false, nil
	}
	reason := fmt.Sprintf("the import chain broke at byte %d (line %d) of %d: it could not continue after every retry", imp.Offset, imp.Line, imp.Size)
	err = g.Store.Fail(ctx, imp.ID, link.Depth, reason, clock.Now(g.Now))
	if errors.Is(err, ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}
