package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// MaxBodyBytes bounds a request body: a declaration is small; the file never comes this way.
const MaxBodyBytes = 4 * 1024

// UploadCreator records and signs an upload (uploads.Creator).
type UploadCreator interface {
	Create(ctx context.Context, owner string, in uploads.Request) (uploads.Upload, uploads.SignedRequest, error)
}

// Create handles POST /uploads.
type Create struct {
	Uploads     UploadCreator
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// created is the body of a 201 answer: the request the client sends to S3, exactly.
type created struct {
	UploadID  string            `json:"uploadId"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Handle validates the declaration, records the upload and answers 201 with the signed PUT.
// No Idempotency-Key: a retried POST records a second PENDING upload, which its TTL removes if
// unused, and nothing else happens until bytes arrive.
func (h Create) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	var in uploads.Request
	if err := httpapi.DecodeJSON(req, &in, MaxBodyBytes); err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	u, signed, err := h.Uploads.Create(ctx, owner, in)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	h.Log.InfoContext(ctx, "upload signed", "uploadId", u.ID, "size", u.Size, "contentType", u.ContentType)
	resp := httpapi.JSON(ctx, h.Log, http.StatusCreated, created{
		UploadID: u.ID, Method: signed.Method, URL: signed.URL, Headers: signed.Headers, ExpiresAt: signed.Expires,
	})
	return httpapi.WithHeader(resp, "Location", "/uploads/"+u.ID), nil
}
