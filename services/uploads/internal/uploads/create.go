package uploads

import (
	"context"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/invalid"
)

// Store keeps upload records (DynamoStore is one).
type Store interface {
	Create(ctx context.Context, u Upload) error
	Get(ctx context.Context, id string) (Upload, error)
	// Finish moves a PENDING upload to status; ErrConflict if it is no longer PENDING.
	Finish(ctx context.Context, id string, status Status, reason string, now time.Time) error
}

// SignedRequest is a pre-signed HTTP request: the caller sends exactly these headers with a body
// of exactly the declared size, or S3 refuses it.
type SignedRequest struct {
	Method  string
	URL     string
	Headers map[string]string
	Expires time.Time
}

// Signer signs requests for single objects (s3objects.Objects is one).
type Signer interface {
	// SignPut signs a PUT of key whose signature covers the declared length, type and checksum.
	SignPut(ctx context.Context, key string, in Request, expires time.Duration) (SignedRequest, error)
	// SignGet signs a GET of key that downloads as an attachment named fileName.
	SignGet(ctx context.Context, key, fileName, contentType string, expires time.Duration) (SignedRequest, error)
}

// Creator records and signs new uploads.
type Creator struct {
	Store  Store
	Signer Signer
	Policy Policy
	// URLExpiry is how long a signed PUT stays valid (and the longest a caller may ask for);
	// short, so a leaked URL is soon useless.
	URLExpiry time.Duration
	// Retention is how long a record that never becomes AVAILABLE is kept (the table's TTL).
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now   func() time.Time
	NewID func() string
}

// Create validates the request, records the upload PENDING and returns it with its signed PUT.
// The record is written before signing: a URL never exists for an upload the verifier would not
// find. A failure after the write leaves a PENDING record that its TTL removes.
func (c Creator) Create(ctx context.Context, owner string, in Request) (Upload, SignedRequest, error) {
	if err := c.Policy.Validate(in); err != nil {
		return Upload{}, SignedRequest{}, err
	}
	expiry := c.URLExpiry
	if in.ExpiresInSeconds != 0 {
		// Compared in seconds: as a time.Duration, 2^55 + 300 s would wrap to 300 s.
		longest := int64(c.URLExpiry / time.Second)
		if in.ExpiresInSeconds < 1 || int64(in.ExpiresInSeconds) > longest {
			return Upload{}, SignedRequest{}, &invalid.Param{Name: "expiresInSeconds", Reason: fmt.Sprintf("must be between 1 and %d", longest)}
		}
		expiry = time.Duration(in.ExpiresInSeconds) * time.Second
	}
	now := clock.Now(c.Now).UTC()
	id := c.NewID()
	u := Upload{
		ID: id, Owner: owner, FileName: in.FileName, ContentType: in.ContentType, Size: in.Size, SHA256: in.SHA256,
		Key: ObjectKey(owner, id, in.FileName), Status: StatusPending,
		// To the second: attributevalue writes a time as RFC 3339 with its fraction's trailing
		// zeros cut ("…:05Z", "…:05.12Z"), and the ByOwner index sorts those strings as text,
		// where ":05.5Z" would come before ":05Z". Whole seconds in UTC all have one width.
		CreatedAt: now.Truncate(time.Second), URLExpires: now.Add(expiry), PurgeAt: now.Add(c.Retention).Unix(),
	}
	if err := c.Store.Create(ctx, u); err != nil {
		return Upload{}, SignedRequest{}, fmt.Errorf("record upload %s: %w", id, err)
	}
	signed, err := c.Signer.SignPut(ctx, u.Key, in, expiry)
	if err != nil {
		return Upload{}, SignedRequest{}, fmt.Errorf("sign upload %s: %w", id, err)
	}
	signed.Expires = u.URLExpires
	return u, signed, nil
}
