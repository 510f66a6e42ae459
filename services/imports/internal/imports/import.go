package imports

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-serverless/reference/shared/correlation"
)

// Status is where an import is in its life.
type Status string

// The statuses of an import.
const (
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
)

// Format is how the records of a file are written.
type Format string

// The formats an import reads, chosen by the object key's extension.
const (
	// FormatCSV is one order per line: id,customer,amount,currency; an optional header line
	// naming those columns comes first.
	FormatCSV Format = "csv"
	// FormatNDJSON is one JSON object per line: {"id":..,"customer":..,"amount":..,"currency":..}.
	FormatNDJSON Format = "ndjson"
)

// Prefix is where import files go: imports/{owner}/{name}. The owner is the caller's subject,
// so an S3 notification alone says whose import it is.
const Prefix = "imports/"

// Domain errors. Only the HTTP edge maps them to status codes.
var (
	// ErrNotFound: no such import, or not the caller's.
	ErrNotFound = errors.New("import not found")
	// ErrConflict: a conditional write lost to another writer (another invocation progressed,
	// the import finished, or it already exists).
	ErrConflict = errors.New("import changed concurrently")
	// ErrObjectNotFound: the file to import does not exist.
	ErrObjectNotFound = errors.New("object not found")
	// ErrObjectChanged: the file was replaced while it was being imported.
	ErrObjectChanged = errors.New("object changed during the import")
)

// Import is one file being imported, and its checkpoint.
type Import struct {
	ID     string `dynamodbav:"importId"`
	Owner  string `dynamodbav:"owner"`
	Bucket string `dynamodbav:"bucket"`
	Key    string `dynamodbav:"key"`
	// ETag pins the version of the object being imported; a chain reads only that version.
	ETag   string `dynamodbav:"etag"`
	Size   int64  `dynamodbav:"size"`
	Format Format `dynamodbav:"format"`
	Status Status `dynamodbav:"status"`
	// Offset and Line are the checkpoint: the byte offset of the next line to read (always the
	// start of a line) and the number of lines before it.
	Offset   int64 `dynamodbav:"offset"`
	Line     int64 `dynamodbav:"line"`
	Accepted int64 `dynamodbav:"accepted"`
	Rejected int64 `dynamodbav:"rejected"`
	// Depth is the hop number of the latest invocation of the chain that claimed the import.
	Depth int `dynamodbav:"depth"`
	// Invocations counts the invocations that worked on the import, retries included.
	Invocations int `dynamodbav:"invocations"`
	// Hops are the invocations that moved the checkpoint, in order, each with where its first
	// batch started: the chain as it went through the file. One entry per invocation, so at
	// most (MaxDepth+1) × 3 attempts of a few numbers each, far below DynamoDB's 400 KB item.
	Hops       []Hop      `dynamodbav:"hops,omitempty"`
	Failure    string     `dynamodbav:"failure,omitempty"`
	CreatedAt  time.Time  `dynamodbav:"createdAt"`
	UpdatedAt  time.Time  `dynamodbav:"updatedAt"`
	FinishedAt *time.Time `dynamodbav:"finishedAt,omitempty"`
	ExpiresAt  int64      `dynamodbav:"expiresAt"`
}

// Hop is where one invocation of the chain started importing: hop Depth (a retry of a hop has
// the same Depth), at byte Offset, after Line lines. It ended where the next Hop starts, or at
// the checkpoint for the last one.
type Hop struct {
	Depth  int   `dynamodbav:"hop" json:"hop"`
	Offset int64 `dynamodbav:"offset" json:"offset"`
	Line   int64 `dynamodbav:"line" json:"line"`
}

// Link is the payload of one invocation of the chain: which import, where the invoker left it,
// and how many hops the chain has made. It is all an invocation receives; the import record is
// the source of truth for where to resume.
type Link struct {
	correlation.Carrier
	ImportID string `json:"importId"`
	Offset   int64  `json:"offset"`
	Line     int64  `json:"line"`
	Depth    int    `json:"depth"`
}

// Reject is a line that was not imported, and why.
type Reject struct {
	Line   int64  `dynamodbav:"line" json:"line"`
	Reason string `dynamodbav:"reason" json:"reason"`
}

// SignedUpload is a pre-signed PUT of one file to import.
type SignedUpload struct {
	Key    string
	URL    string
	Method string
	// Header holds the headers the signature covers, Host and Content-Length included.
	Header    http.Header
	ExpiresAt time.Time
}

// ID derives an import's id from what identifies one version of one object, so a duplicated
// S3 notification, a retried POST, or both for the same upload name the same import.
func ID(bucket, key, etag string) string {
	sum := sha256.Sum256([]byte(bucket + "\n" + key + "\n" + NormalizeETag(etag)))
	return hex.EncodeToString(sum[:16])
}

// NormalizeETag strips the quotes S3 puts around ETags in headers (S3 events carry none).
func NormalizeETag(etag string) string {
	return strings.Trim(etag, `"`)
}

// OwnerOf returns the owner named by a key imports/{owner}/{name}, and whether the key has
// that shape.
func OwnerOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok {
		return "", false
	}
	owner, name, ok := strings.Cut(rest, "/")
	if !ok || owner == "" || name == "" {
		return "", false
	}
	return owner, true
}

// ContentType is the media type a file of format f is uploaded as.
func (f Format) ContentType() string {
	if f == FormatCSV {
		return "text/csv"
	}
	return "application/x-ndjson"
}

// FormatOf returns the format a key's extension names.
func FormatOf(key string) (Format, bool) {
	switch strings.ToLower(path.Ext(key)) {
	case ".csv":
		return FormatCSV, true
	case ".ndjson", ".jsonl":
		return FormatNDJSON, true
	}
	return "", false
}
