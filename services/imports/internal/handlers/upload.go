package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// maxFileNameLength bounds the name of an uploaded file.
const maxFileNameLength = 200

// UploadSigner signs a PUT of an import file (imports.Uploads).
type UploadSigner interface {
	Sign(ctx context.Context, key string) (imports.SignedUpload, error)
}

// Upload handles POST /imports/uploads {"fileName": "orders.csv"}: a pre-signed PUT to
// imports/{caller}/{fileName}. Once the file is uploaded, S3's notification starts its import.
type Upload struct {
	Uploads     UploadSigner
	Correlation correlation.Extractor
	Log         *slog.Logger
}

type uploadRequest struct {
	FileName string `json:"fileName"`
}

type uploadGrant struct {
	Key       string            `json:"key"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
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
	if reason := fileNameProblem(in.FileName); reason != "" {
		return httpapi.ErrorResponse(ctx, h.Log, &httpapi.Problem{
			Status: http.StatusBadRequest, Title: "Invalid file name", Detail: reason,
			InvalidParams: []httpapi.InvalidParam{{Name: "fileName", Reason: reason}},
		}), nil
	}
	signed, err := h.Uploads.Sign(ctx, imports.Prefix+owner+"/"+in.FileName)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	grant := uploadGrant{Key: signed.Key, Method: signed.Method, URL: signed.URL, Headers: map[string]string{}, ExpiresAt: signed.ExpiresAt}
	for name, values := range signed.Header {
		if !strings.EqualFold(name, "Host") && len(values) > 0 {
			grant.Headers[name] = values[0]
		}
	}
	return httpapi.JSON(ctx, http.StatusCreated, grant), nil
}

// fileNameProblem says what is wrong with a file name, or "".
func fileNameProblem(name string) string {
	switch {
	case name == "":
		return "fileName is required"
	case len(name) > maxFileNameLength || !utf8.ValidString(name):
		return "fileName must be at most 200 bytes of UTF-8"
	case strings.ContainsAny(name, "/\\") || name == "." || name == "..":
		return "fileName must not contain a path"
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return "fileName must not contain control characters"
	}
	if _, ok := imports.FormatOf(name); !ok {
		return "fileName must end in .csv, .ndjson or .jsonl"
	}
	return ""
}
