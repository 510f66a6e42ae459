package uploads

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-serverless/reference/shared/invalid"
)

// Status is where an upload is in its life.
type Status string

// The statuses of an upload. PENDING is the only one that changes.
const (
	// StatusPending: a URL was signed; the object has not arrived or is not verified yet.
	StatusPending Status = "PENDING"
	// StatusAvailable: the object arrived and matched its declaration; its owner may download it.
	StatusAvailable Status = "AVAILABLE"
	// StatusRejected: the object did not match its declaration and was deleted.
	StatusRejected Status = "REJECTED"
)

// KeyPrefix is where every upload's object lives; the bucket's notification and lifecycle rules
// and the signer's IAM policy are scoped to it.
const KeyPrefix = "uploads/"

// Limits on a file name.
const (
	// MaxFileNameLength is in characters; S3 keys allow 1,024 bytes, and the rest of the key is short.
	MaxFileNameLength = 200
)

// Errors the rules return; the HTTP edge maps them to status codes.
var (
	// ErrNotFound: no such upload, or it belongs to someone else (the two are not told apart, so
	// ids cannot be probed).
	ErrNotFound = errors.New("upload not found")
	// ErrNotAvailable: the upload exists but is not AVAILABLE, so there is nothing to download.
	ErrNotAvailable = errors.New("upload is not available")
	// ErrNotVerifiedYet: the upload is still PENDING: ask again once it is verified. It wraps
	// ErrNotAvailable, so a caller that only asks "can I download it?" needs no second case.
	ErrNotVerifiedYet = fmt.Errorf("%w: it is still being verified", ErrNotAvailable)
	// ErrConflict: a conditional write lost (the upload is no longer PENDING, or the id exists).
	ErrConflict = errors.New("upload changed concurrently")
	// ErrObjectNotFound: S3 has no object at the key.
	ErrObjectNotFound = errors.New("object not found")
)

// Upload is one file a caller declared and may have sent.
type Upload struct {
	ID          string `dynamodbav:"uploadId"`
	Owner       string `dynamodbav:"owner"`
	FileName    string `dynamodbav:"fileName"`
	ContentType string `dynamodbav:"contentType"`
	Size        int64  `dynamodbav:"size"`
	// SHA256 is the base64 SHA-256 of the whole body, as S3's x-amz-checksum-sha256.
	SHA256 string `dynamodbav:"sha256"`
	Key    string `dynamodbav:"objectKey"`
	Status Status `dynamodbav:"status"`
	// Reason says why an upload was REJECTED.
	Reason     string     `dynamodbav:"reason,omitempty"`
	CreatedAt  time.Time  `dynamodbav:"createdAt"`
	URLExpires time.Time  `dynamodbav:"urlExpiresAt"`
	VerifiedAt *time.Time `dynamodbav:"verifiedAt,omitempty"`
	// PurgeAt is the table's TTL (epoch seconds): an upload that never becomes AVAILABLE is
	// forgotten after it. AVAILABLE uploads have none.
	PurgeAt int64 `dynamodbav:"purgeAt,omitempty"`
}

// Request is what a caller declares before anything is signed.
type Request struct {
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// SHA256 is the base64 of the body's SHA-256 digest (what S3 calls x-amz-checksum-sha256).
	SHA256 string `json:"sha256"`
	// ExpiresInSeconds optionally asks for a URL shorter-lived than the service's default.
	ExpiresInSeconds int `json:"expiresInSeconds,omitempty"`
}

// Policy is what may be uploaded.
type Policy struct {
	// AllowedTypes are the exact media types accepted, lower case, without parameters.
	AllowedTypes []string
	// MaxSize is the largest body in bytes.
	MaxSize int64
}

// DefaultAllowedTypes returns the media types accepted when the configuration names none: each
// has a signature CheckSignature checks, or is text CheckText reads whole.
func DefaultAllowedTypes() []string {
	return []string{"image/png", "image/jpeg", "application/pdf", "text/plain", "text/csv"}
}

// Validate checks a request against the policy; it returns an *invalid.Param naming the
// first bad field. A file name is never repaired: one with a path in it is refused, so the caller
// learns that the name it sent is not the one that would be stored.
func (p Policy) Validate(in Request) error {
	if err := validFileName(in.FileName); err != nil {
		return err
	}
	if !slices.Contains(p.AllowedTypes, in.ContentType) {
		return &invalid.Param{Name: "contentType", Reason: "must be one of " + strings.Join(p.AllowedTypes, ", ")}
	}
	if in.Size <= 0 || in.Size > p.MaxSize {
		return &invalid.Param{Name: "size", Reason: fmt.Sprintf("must be between 1 and %d bytes", p.MaxSize)}
	}
	if sum, err := base64.StdEncoding.Strict().DecodeString(in.SHA256); err != nil || len(sum) != 32 {
		return &invalid.Param{Name: "sha256", Reason: "must be the base64 of a 32-byte SHA-256 digest"}
	}
	return nil
}

// validFileName accepts a plain file name: no directory part, no control or format characters,
// not only dots.
func validFileName(name string) error {
	bad := func(reason string) error { return &invalid.Param{Name: "fileName", Reason: reason} }
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return bad("is required")
	case n > MaxFileNameLength:
		return bad(fmt.Sprintf("must be at most %d characters", MaxFileNameLength))
	}
	if !utf8.ValidString(name) {
		return bad("must be UTF-8")
	}
	if strings.ContainsAny(name, `/\`) {
		return bad("must be a file name without a directory")
	}
	for _, r := range name {
		// Format characters (Cf) are invisible but change how a name reads: U+202E reverses what
		// follows, so "invoice\u202efdp.exe" shows as "invoiceexe.pdf" in the download's
		// Content-Disposition; zero-width ones make two names look the same.
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return bad("must not contain control or invisible formatting characters")
		}
	}
	if strings.Trim(name, ". ") == "" {
		return bad("must not be only dots and spaces")
	}
	return nil
}

// SafeName is the file name as it appears in the object key: ASCII letters, digits, dot, dash
// and underscore, everything else replaced by '_'. The caller's name is kept in the record (and
// given back on download); the key needs no escaping anywhere it travels (URLs, S3 events, logs).
func SafeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.TrimLeft(b.String(), ".")
}

// ObjectKey is the one key a caller may write for an upload: under the caller's own prefix and
// the upload's id, never a key the caller chose.
func ObjectKey(owner, id, fileName string) string {
	name := SafeName(fileName)
	if name == "" {
		name = "file"
	}
	return KeyPrefix + SafeName(owner) + "/" + id + "/" + name
}

// IDFromKey returns the upload id in an object key made by ObjectKey.
func IDFromKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !validID(parts[1]) {
		return "", false
	}
	return parts[1], true
}

// NewID returns a random upload id: 128 bits, hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validID reports whether id looks like one NewID made, so a malformed id is refused before
// any lookup.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}
