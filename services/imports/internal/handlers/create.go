package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/invalid"
)

// MaxBodyBytes bounds a POST /imports body: it holds one key.
const MaxBodyBytes = 4 * 1024

// maxKeyLength is S3's limit on an object key.
const maxKeyLength = 1024

// ImportStarter starts an import (imports.Starter).
type ImportStarter interface {
	Start(ctx context.Context, owner string, obj imports.Object) (imports.Import, bool, error)
}

// ObjectHeader finds the current version of an object (s3objects.Objects).
type ObjectHeader interface {
	Head(ctx context.Context, bucket, key string) (imports.Object, error)
}

// Create handles POST /imports {"key": "imports/{sub}/orders.csv"}: an import of a file the
// caller uploaded under their own prefix of the imports bucket.
type Create struct {
	Imports     ImportStarter
	Objects     ObjectHeader
	Bucket      string
	Correlation correlation.Extractor
	Log         *slog.Logger
}

type createRequest struct {
	Key string `json:"key"`
}

// accepted is the body of a 202 answer.
type accepted struct {
	ImportID string         `json:"importId"`
	Status   imports.Status `json:"status"`
}

// Handle validates the key, checks the object exists, and starts (or finds) its import.
func (h Create) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	var in createRequest
	if err := httpapi.DecodeJSON(req, &in, MaxBodyBytes); err != nil {
		return h.fail(ctx, err), nil
	}
	if err := checkKey(owner, in.Key); err != nil {
		return h.fail(ctx, err), nil
	}
	obj, err := h.Objects.Head(ctx, h.Bucket, in.Key)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	imp, _, err := h.Imports.Start(ctx, owner, obj)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	h.Log.InfoContext(ctx, "import accepted", "importId", imp.ID, "key", imp.Key, "size", imp.Size)
	resp := httpapi.JSON(ctx, h.Log, http.StatusAccepted, accepted{ImportID: imp.ID, Status: imp.Status})
	resp = httpapi.WithHeader(resp, "Location", "/imports/"+imp.ID)
	return httpapi.WithHeader(resp, "Retry-After", "2"), nil
}

// checkKey refuses a key that is not one of owner's import files, naming "key": before any S3
// call, so that no key S3 refuses (over 1024 bytes, not UTF-8) or that reaches outside the
// caller's prefix gets further.
func checkKey(owner, key string) error {
	prefix := imports.Prefix + owner + "/"
	reason := ""
	switch {
	case key == "":
		reason = "is required"
	case len(key) > maxKeyLength:
		reason = fmt.Sprintf("must be at most %d bytes", maxKeyLength)
	case !utf8.ValidString(key) || strings.IndexFunc(key, invisible) >= 0:
		// S3 keys are UTF-8; a NUL or another control character answered 500 from HeadObject.
		reason = "must be UTF-8 without control or invisible formatting characters"
	case !cleanKey(key):
		// S3 keys are opaque strings, but a key with "." or ".." segments passes the prefix check
		// while reading as a path into another user's folder to anything that cleans it.
		reason = `must be a clean path: no "//", "." or ".." segments`
	case !strings.HasPrefix(key, prefix) || len(key) == len(prefix):
		reason = "must name a file under " + prefix
	default:
		if _, ok := imports.FormatOf(key); !ok {
			reason = "must end in .csv, .ndjson or .jsonl"
		}
	}
	if reason == "" {
		return nil
	}
	return &invalid.Param{Name: "key", Reason: reason}
}

// cleanKey reports whether key is a path that cleaning leaves unchanged: no empty, "." or ".."
// segment.
func cleanKey(key string) bool {
	if path.Clean(key) != key || strings.Contains(key, "//") {
		return false
	}
	return !slices.ContainsFunc(strings.Split(key, "/"), func(seg string) bool { return seg == "." || seg == ".." })
}

func (h Create) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	if errors.Is(err, imports.ErrObjectNotFound) {
		err = &httpapi.Problem{
			Status: http.StatusUnprocessableEntity, Title: "No such file",
			Detail:        "there is no object at this key; upload the file first",
			InvalidParams: []httpapi.InvalidParam{{Name: "key", Reason: "no object"}},
		}
	}
	return httpapi.ErrorResponse(ctx, h.Log, err)
}
