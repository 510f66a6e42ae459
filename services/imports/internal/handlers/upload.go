package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/invalid"
)

// maxFileNameLength bounds the name of an uploaded file.
const maxFileNameLength = 200

// DefaultMaxUploadBytes is the largest file an Upload signs when its MaxSize is 0: 1 GiB.
const DefaultMaxUploadBytes = 1 << 30

// UploadSigner signs a PUT of an import file of exactly size bytes of contentType
// (s3objects.Uploads).
type UploadSigner interface {
	Sign(ctx context.Context, key string, size int64, contentType string) (imports.SignedUpload, error)
}

// Upload handles POST /imports/uploads {"fileName": "orders.csv", "size": 1234}: a pre-signed
// PUT to imports/{caller}/{fileName} whose signature covers the declared size and content type,
// so S3 stores nothing else. Once the file is uploaded, S3's notification starts its import.
type Upload struct {
	Uploads UploadSigner
	// MaxSize is the largest size a caller may declare; DefaultMaxUploadBytes when 0.
	MaxSize     int64
	Correlation correlation.Extractor
	Log         *slog.Logger
}

type uploadRequest struct {
	FileName string `json:"fileName"`
	// Size is the exact length of the file in bytes.
	Size int64 `json:"size"`
	// ContentType is optional; when given it must be the type of the file name's format.
	ContentType string `json:"contentType"`
}

type uploadGrant struct {
	Key       string            `json:"key"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Size      int64             `json:"size"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Handle validates the file name and answers 201 with the signed request.
func (h Upload) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	var in uploadRequest
	if err := httpapi.DecodeJSON(req, &in, MaxBodyBytes); err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	if err := checkFileName(in.FileName); err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	if err := h.checkSize(in.Size); err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	format, _ := imports.FormatOf(in.FileName)
	contentType := format.ContentType()
	if in.ContentType != "" && in.ContentType != contentType {
		err := &invalid.Param{Name: "contentType", Reason: fmt.Sprintf("of a %s file must be %s", format, contentType)}
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	signed, err := h.Uploads.Sign(ctx, imports.Prefix+owner+"/"+in.FileName, in.Size, contentType)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	grant := uploadGrant{Key: signed.Key, Method: signed.Method, URL: signed.URL, Headers: map[string]string{}, Size: in.Size, ExpiresAt: signed.ExpiresAt}
	for name, values := range signed.Header {
		// Every HTTP client sets Host from the URL and Content-Length from the body it sends.
		if len(values) > 0 && !strings.EqualFold(name, "Host") && !strings.EqualFold(name, "Content-Length") {
			grant.Headers[http.CanonicalHeaderKey(name)] = values[0]
		}
	}
	return httpapi.JSON(ctx, h.Log, http.StatusCreated, grant), nil
}

// checkSize refuses a declared size that is not 1 to MaxSize bytes.
func (h Upload) checkSize(size int64) error {
	maxSize := h.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxUploadBytes
	}
	switch {
	case size <= 0:
		return &invalid.Param{Name: "size", Reason: "is required: the exact length of the file in bytes, above 0"}
	case size > maxSize:
		return &invalid.Param{Name: "size", Reason: fmt.Sprintf("must be at most %d bytes", maxSize)}
	}
	return nil
}

// invisible reports control characters (Cc), format characters (Cf: U+202E reverses how the rest
// of a name reads, zero-width spaces hide) and U+FFFD, none of which belongs in a file name.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
}

// checkFileName refuses a file name that is not a plain name of a supported format.
func checkFileName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "is required"
	case len(name) > maxFileNameLength || !utf8.ValidString(name):
		reason = fmt.Sprintf("must be at most %d bytes of UTF-8", maxFileNameLength)
	case strings.ContainsAny(name, "/\\") || name == "." || name == "..":
		reason = "must not contain a path"
	case strings.IndexFunc(name, invisible) >= 0:
		reason = "must not contain control or invisible formatting characters"
	default:
		if _, ok := imports.FormatOf(name); !ok {
			reason = "must end in .csv, .ndjson or .jsonl"
		}
	}
	if reason == "" {
		return nil
	}
	return &invalid.Param{Name: "fileName", Reason: reason}
}
