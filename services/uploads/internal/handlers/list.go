package handlers

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/invalid"
)

// UploadLister lists an owner's uploads, newest first (uploads.DynamoStore).
type UploadLister interface {
	ListByOwner(ctx context.Context, owner string, limit int) ([]uploads.Upload, error)
}

// List handles GET /uploads: the caller's most recent uploads, for a page that shows them.
type List struct {
	Uploads     UploadLister
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// uploadList is the body of GET /uploads.
type uploadList struct {
	Uploads []uploadSummary `json:"uploads"`
}

// uploadSummary is one upload in the list: what GET /uploads/{uploadId} says of it, less the
// verification time.
type uploadSummary struct {
	UploadID    string         `json:"uploadId"`
	Status      uploads.Status `json:"status"`
	FileName    string         `json:"fileName"`
	ContentType string         `json:"contentType"`
	Size        int64          `json:"size"`
	CreatedAt   time.Time      `json:"createdAt"`
	Reason      string         `json:"reason,omitempty"`
}

// Handle answers 200 with the caller's uploads.RecentLimit most recent uploads, newest first,
// and nobody else's. It takes no query parameters: one given is refused, not ignored.
func (h List) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	if names := slices.Sorted(maps.Keys(req.QueryStringParameters)); len(names) > 0 {
		return httpapi.ErrorResponse(ctx, h.Log, &invalid.Param{Name: names[0], Reason: "is not a parameter of GET /uploads, which takes none"}), nil
	}
	list, err := h.Uploads.ListByOwner(ctx, owner, uploads.RecentLimit)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	body := uploadList{Uploads: make([]uploadSummary, 0, len(list))}
	for _, u := range list {
		body.Uploads = append(body.Uploads, uploadSummary{
			UploadID: u.ID, Status: u.Status, FileName: u.FileName, ContentType: u.ContentType, Size: u.Size,
			CreatedAt: u.CreatedAt, Reason: u.Reason,
		})
	}
	return httpapi.JSON(ctx, h.Log, http.StatusOK, body), nil
}
