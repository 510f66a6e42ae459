package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// Limits on a quote request.
const (
	maxQuoteBodyBytes = 4 * 1024
	// RetryAfterSeconds is what a 202 tells the client to wait before GET /quotes/{quoteId}.
	RetryAfterSeconds = 1
)

// QuoteSubmitter queues a quote with the engine decided now (quotes.Submitter).
type QuoteSubmitter interface {
	Submit(ctx context.Context, owner string, req pricing.Request, engine pricing.Engine, idempotencyKey string) (quotes.Job, error)
}

// SubmitQuote handles POST /quotes.
type SubmitQuote struct {
	Quotes      QuoteSubmitter
	Flags       Flags
	Metrics     Metrics
	Correlation correlation.Extractor
	Now         func() time.Time
	Log         *slog.Logger
}

type quoteRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type quoteAccepted struct {
	QuoteID string         `json:"quoteId"`
	Engine  pricing.Engine `json:"engine"`
}

// Handle decides the engine once, here, and queues it with the job: the worker prices with it
// whatever the flag says by then. Answers 202 with where to read the quote.
func (h SubmitQuote) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	started := h.Now()
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	sub, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	user := userFrom(req, sub)
	engine, log := decide(ctx, h.Flags, h.Log, user)

	resp := h.submit(ctx, log, req, sub, user.Plan, engine)
	// Flush before finish, so the recorded latency includes the wait for event delivery.
	h.Flags.Flush(ctx)
	return finish(ctx, h.Metrics, log, "POST /quotes", engine, started, h.Now, resp), nil
}

func (h SubmitQuote) submit(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, owner, plan string, engine pricing.Engine) events.APIGatewayV2HTTPResponse {
	var body quoteRequest
	if err := httpapi.DecodeJSON(req, &body, maxQuoteBodyBytes); err != nil {
		return httpapi.ErrorResponse(ctx, log, err)
	}
	key, err := httpapi.IdempotencyKey(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, log, err)
	}
	job, err := h.Quotes.Submit(ctx, owner, pricing.Request{SKU: body.SKU, Quantity: body.Quantity, Plan: plan}, engine, key)
	if err != nil {
		return httpapi.ErrorResponse(ctx, log, requestProblem(err))
	}
	log.InfoContext(ctx, "quote queued", "quoteId", job.QuoteID, "sku", job.SKU)
	resp := httpapi.JSON(ctx, http.StatusAccepted, quoteAccepted{QuoteID: job.QuoteID, Engine: engine})
	resp = httpapi.WithHeader(resp, "Location", "/quotes/"+job.QuoteID)
	return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds))
}

// QuoteGetter reads a caller's quote (quotes.Reader).
type QuoteGetter interface {
	Get(ctx context.Context, owner, id string) (quotes.Quote, error)
}

// GetQuote handles GET /quotes/{quoteId}. It evaluates no flag: the quote names its engine.
type GetQuote struct {
	Quotes      QuoteGetter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// Handle answers the priced quote, or 404 until the worker has priced it (and for another
// caller's quote).
func (h GetQuote) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	sub, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	q, err := h.Quotes.Get(ctx, sub, req.PathParameters["quoteId"])
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, quoteNotFound), nil
	}
	return httpapi.WithHeader(httpapi.JSON(ctx, http.StatusOK, q), EngineHeader, string(q.Engine)), nil
}
