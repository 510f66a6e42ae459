package uploads

import (
	"context"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// Reader answers a caller's questions about their own uploads.
type Reader struct {
	Store  Store
	Signer Signer
	// DownloadExpiry is how long a signed GET stays valid.
	DownloadExpiry time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Get returns the caller's upload; ErrNotFound for an unknown id or another caller's upload.
func (r Reader) Get(ctx context.Context, owner, id string) (Upload, error) {
	if !validID(id) {
		return Upload{}, ErrNotFound
	}
	u, err := r.Store.Get(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	if u.Owner != owner {
		return Upload{}, ErrNotFound
	}
	return u, nil
}

// Download returns a short-lived signed GET for the caller's AVAILABLE upload; ErrNotVerifiedYet
// while it is PENDING, ErrNotAvailable once REJECTED.
func (r Reader) Download(ctx context.Context, owner, id string) (SignedRequest, error) {
	u, err := r.Get(ctx, owner, id)
	if err != nil {
		return SignedRequest{}, err
	}
	switch u.Status {
	case StatusAvailable:
	case StatusPending:
		return SignedRequest{}, ErrNotVerifiedYet
	default:
		return SignedRequest{}, ErrNotAvailable
	}
	signed, err := r.Signer.SignGet(ctx, u.Key, u.FileName, u.ContentType, r.DownloadExpiry)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("sign download of %s: %w", id, err)
	}
	signed.Expires = clock.Now(r.Now).UTC().Add(r.DownloadExpiry)
	return signed, nil
}

// RecentLimit is how many uploads GET /uploads lists: the most recent.
const RecentLimit = 20
