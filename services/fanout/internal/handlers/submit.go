package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// Limits on a submission.
const (
	// MaxBodyBytes bounds the request body: 10,000 items of about 100 bytes each, with room to spare.
	MaxBodyBytes = 2 * 1024 * 1024
	// RetryAfterSeconds is what 202 answers tell a poller to wait.
	RetryAfterSeconds = 2
)

// BatchSubmitter records a batch and fans it out (fanout.Submitter).
type BatchSubmitter interface {
	Submit(ctx context.Context, owner string, in fanout.Input, idempotencyKey, correlationID string) (fanout.Batch, error)
}

// Submit handles POST /batches.
type Submit struct {
	Batches     BatchSubmitter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

type accepted struct {
	BatchID string        `json:"batchId"`
	Status  fanout.Status `json:"status"`
	Total   int           `json:"total"`
}

// Handle validates the request, records and fans out the batch, and answers 202. With an
// Idempotency-Key, a retry finds the same batch and finishes a fan-out that stopped part-way.
func (h Submit) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ids := h.Correlation.HTTP(req)
	ctx = correlation.NewContext(ctx, ids)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	var in fanout.Input
	if err := httpapi.DecodeJSON(req, &in, MaxBodyBytes); err != nil {
		return h.fail(ctx, err), nil
	}
	if err := in.Validate(); err != nil {
		return h.fail(ctx, err), nil
	}
	key, err := httpapi.IdempotencyKey(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	b, err := h.Batches.Submit(ctx, owner, in, key, ids.CorrelationID)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	if b.Status == fanout.StatusFailed {
		return h.failedBefore(ctx, b), nil
	}
	h.Log.InfoContext(ctx, "batch accepted", "batchId", b.ID, "total", b.Total)
	resp := httpapi.JSON(ctx, h.Log, http.StatusAccepted, accepted{BatchID: b.ID, Status: b.Status, Total: b.Total})
	resp = httpapi.WithHeader(resp, "Location", "/batches/"+b.ID)
	return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds)), nil
}

// failedBefore answers a retry whose Idempotency-Key names a batch that already ended FAILED (its
// fan-out was interrupted and not resumed in time, or its deadline passed). Retrying with the same
// key can only find the same batch again, so the answer says what would run it: a new key.
func (h Submit) failedBefore(ctx context.Context, b fanout.Batch) events.APIGatewayV2HTTPResponse {
	reason := "failed"
	if b.Failure != nil {
		reason = b.Failure.Reason // written for the batch's owner, as GET shows it
	}
	resp := httpapi.ErrorResponse(ctx, h.Log, &httpapi.Problem{
		Status: http.StatusConflict, Title: "Batch already failed",
		Detail: fmt.Sprintf("this Idempotency-Key names batch %s, which ended FAILED (%s); "+
			"send the request again with a new Idempotency-Key to run it again", b.ID, reason),
	})
	return httpapi.WithHeader(resp, "Location", "/batches/"+b.ID)
}

func (h Submit) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, h.Log, err,
		httpapi.ErrorRule{Err: fanout.ErrFingerprintMismatch, Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused for a different request"},
	)
}
