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

// UploadReader finds a caller's upload and signs its download (uploads.Reader).
type UploadReader interface {
	Get(ctx context.Context, owner, id string) (uploads.Upload, error)
	Download(ctx context.Context, owner, id string) (uploads.SignedRequest, error)
}

// Get handles GET /uploads/{uploadId}.
type Get struct {
	Uploads     UploadReader
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// uploadView is what a poller sees.
type uploadView struct {
	UploadID    string         `json:"uploadId"`
	Status      uploads.Status `json:"status"`
	FileName    string         `json:"fileName"`
	ContentType string         `json:"contentType"`
	Size        int64          `json:"size"`
	CreatedAt   time.Time      `json:"createdAt"`
	VerifiedAt  *time.Time     `json:"verifiedAt,omitempty"`
	Reason      string         `json:"reason,omitempty"`
}

// Handle answers 200 with the upload's status; 404 for an unknown id or another caller's upload.
func (h Get) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	id, err := uploadIDFrom(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, notFound()), nil
	}
	u, err := h.Uploads.Get(ctx, owner, id)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, notFound()), nil
	}
	return httpapi.JSON(ctx, h.Log, http.StatusOK, uploadView{
		UploadID: u.ID, Status: u.Status, FileName: u.FileName, ContentType: u.ContentType, Size: u.Size,
		CreatedAt: u.CreatedAt, VerifiedAt: u.VerifiedAt, Reason: u.Reason,
	}), nil
}

// Download handles GET /uploads/{uploadId}/download.
type Download struct {
	Uploads     UploadReader
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// download is the body of a 200 answer: a short-lived GET straight from S3.
type download struct {
	Method    string    `json:"method"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Handle answers 200 with a signed GET for the caller's AVAILABLE upload, 409 while it is not
// AVAILABLE, 404 for an unknown id or another caller's upload. The URL is in the body rather than
// a redirect so a client holding a bearer token never sends it to S3.
func (h Download) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	id, err := uploadIDFrom(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, notFound()), nil
	}
	signed, err := h.Uploads.Download(ctx, owner, id)
	if err != nil {
		// Rules are tried in order: a PENDING upload will be verified within seconds, so it says
		// when to ask again; a REJECTED one never becomes available.
		return httpapi.ErrorResponse(ctx, h.Log, err, notFound(),
			httpapi.ErrorRule{Err: uploads.ErrNotVerifiedYet, Status: http.StatusConflict, Title: "Upload not verified yet", RetryAfter: 2 * time.Second},
			httpapi.ErrorRule{Err: uploads.ErrNotAvailable, Status: http.StatusConflict, Title: "Upload not available"}), nil
	}
	return httpapi.JSON(ctx, h.Log, http.StatusOK, download{Method: signed.Method, URL: signed.URL, ExpiresAt: signed.Expires}), nil
}

// uploadIDFrom returns the upload id in the path, or uploads.ErrNotFound when no upload can have it.
func uploadIDFrom(req events.APIGatewayV2HTTPRequest) (string, error) {
	return httpapi.PathID(req, "uploadId", httpapi.HexID, uploads.ErrNotFound)
}

// notFound maps an unknown id, or another caller's upload, to the same 404.
func notFound() httpapi.ErrorRule {
	return httpapi.ErrorRule{Err: uploads.ErrNotFound, Status: http.StatusNotFound, Title: "Upload not found"}
}
