package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// ImportGetter reads an owner's import (imports.Reader).
type ImportGetter interface {
	Get(ctx context.Context, owner, id string) (imports.View, error)
}

// Get handles GET /imports/{importId}.
type Get struct {
	Imports     ImportGetter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// importView is the answer of GET /imports/{importId}.
type importView struct {
	ImportID    string         `json:"importId"`
	Status      imports.Status `json:"status"`
	Key         string         `json:"key"`
	BytesDone   int64          `json:"bytesDone"`
	BytesTotal  int64          `json:"bytesTotal"`
	LinesDone   int64          `json:"linesDone"`
	Accepted    int64          `json:"accepted"`
	Rejected    int64          `json:"rejected"`
	Invocations int            `json:"invocations"`
	// Hops are the invocations that moved the checkpoint, each with where it started; hop i
	// covered the bytes up to hop i+1's offset (the last one, up to bytesDone).
	Hops       []imports.Hop    `json:"hops"`
	Rejects    []imports.Reject `json:"rejects"`
	Failure    string           `json:"failure,omitempty"`
	CreatedAt  time.Time        `json:"createdAt"`
	FinishedAt *time.Time       `json:"finishedAt,omitempty"`
}

// Handle answers 200 with the import's progress (and Retry-After while it runs), or 404 for
// anyone but its owner.
func (h Get) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	id, err := httpapi.PathID(req, "importId", httpapi.HexID, imports.ErrNotFound)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	v, err := h.Imports.Get(ctx, owner, id)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	body := importView{
		ImportID: v.ID, Status: v.Status, Key: v.Key,
		BytesDone: v.Offset, BytesTotal: v.Size, LinesDone: v.Line,
		Accepted: v.Accepted, Rejected: v.Rejected, Invocations: v.Invocations, Hops: v.Hops,
		Rejects: v.Rejects, Failure: v.Failure, CreatedAt: v.CreatedAt, FinishedAt: v.FinishedAt,
	}
	if body.Rejects == nil {
		body.Rejects = []imports.Reject{}
	}
	if body.Hops == nil {
		body.Hops = []imports.Hop{}
	}
	resp := httpapi.JSON(ctx, h.Log, http.StatusOK, body)
	if v.Status == imports.StatusRunning {
		resp = httpapi.WithHeader(resp, "Retry-After", "2")
	}
	return resp, nil
}

func (h Get) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, h.Log, err, httpapi.ErrorRule{Err: imports.ErrNotFound, Status: http.StatusNotFound, Title: "Import not found"})
}
