package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// BatchGetter finds a caller's batch (fanout.Reader).
type BatchGetter interface {
	Get(ctx context.Context, owner, id string) (fanout.Batch, error)
}

// Get handles GET /batches/{batchId}.
type Get struct {
	Batches     BatchGetter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// batchView is what a poller sees. Problem follows RFC 9457 so clients parse failures one way.
type batchView struct {
	BatchID    string           `json:"batchId"`
	Status     fanout.Status    `json:"status"`
	Total      int              `json:"total"`
	Completed  int              `json:"completed"`
	Failed     int              `json:"failed"`
	StartedAt  time.Time        `json:"startedAt"`
	FinishedAt *time.Time       `json:"finishedAt,omitempty"`
	Result     *fanout.Result   `json:"result,omitempty"`
	Problem    *httpapi.Problem `json:"problem,omitempty"`
}

// Handle answers 202 + Retry-After while the batch is RUNNING or AGGREGATING, 200 once it is done
// (SUCCEEDED or COMPLETED_WITH_ERRORS with its result, FAILED with a problem), and 404 for an
// unknown id or another caller's batch.
func (h Get) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	id, err := httpapi.PathID(req, "batchId", httpapi.HexID, fanout.ErrNotFound)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	b, err := h.Batches.Get(ctx, owner, id)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	view := batchView{
		BatchID: b.ID, Status: b.Status, Total: b.Total, Completed: b.Completed, Failed: b.Failed,
		StartedAt: b.StartedAt, FinishedAt: b.FinishedAt, Result: b.Result,
	}
	if b.Failure != nil {
		view.Problem = &httpapi.Problem{
			Type:   "https://github.com/go-serverless/reference/blob/main/services/fanout/README.md#how-it-fails-safely",
			Title:  b.Failure.Reason,
			Status: http.StatusOK,
			Detail: b.Failure.Detail,
		}
	}
	if !b.Status.Done() {
		resp := httpapi.JSON(ctx, h.Log, http.StatusAccepted, view)
		return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds)), nil
	}
	return httpapi.JSON(ctx, h.Log, http.StatusOK, view), nil
}

func (h Get) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, h.Log, err,
		httpapi.ErrorRule{Err: fanout.ErrNotFound, Status: http.StatusNotFound, Title: "Batch not found"})
}
