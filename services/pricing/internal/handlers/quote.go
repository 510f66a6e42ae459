package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/idempotency"
)

// Limits on a quote request.
const (
	maxQuoteBodyBytes = 4 * 1024
	// RetryAfterSeconds is what a 202 tells the client to wait before GET /quotes/{quoteId}, and
	// a 409 before retrying a request whose Idempotency-Key is still being processed.
	RetryAfterSeconds = 1
	// submitClaim is how long a submission holds its Idempotency-Key while it runs: longer than
	// SubmitQuoteFunction's Timeout, so a retry never runs alongside the first attempt.
	submitClaim = 10 * time.Second
)

// QuoteSubmitter queues a quote with the engine decided now (quotes.Submitter).
type QuoteSubmitter interface {
	Submit(ctx context.Context, owner string, req pricing.Request, engine pricing.Engine, idempotencyKey string) (quotes.Job, error)
}

// Idempotency runs fn once per key (*idempotency.Store).
type Idempotency interface {
	Do(ctx context.Context, key, fingerprint string, inProgressFor time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error)
}

// SubmitQuote handles POST /quotes.
type SubmitQuote struct {
	Quotes QuoteSubmitter
	// Idempotency remembers, per caller and Idempotency-Key, what was asked and what was
	// answered: a retry gets the first answer, another request under the same key a 422.
	Idempotency Idempotency
	Flags       Flags
	Metrics     Metrics
	Correlation correlation.Extractor
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

type quoteRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// quoteAccepted is the body of a 202 answer; with an Idempotency-Key it is also what is stored and
// replayed.
type quoteAccepted struct {
	QuoteID string         `json:"quoteId"`
	Engine  pricing.Engine `json:"engine"`
}

// Handle decides the engine once, here, and queues it with the job: the worker prices with it
// whatever the flag says by then. Answers 202 with where to read the quote.
func (h SubmitQuote) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	started := clock.Now(h.Now)
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	sub, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	user := userFrom(req, sub)
	engine, log := decide(ctx, h.Flags, h.Log, user)

	resp, engine := h.submit(ctx, log, req, sub, user.Plan, engine)
	// Flush before finish, so the recorded latency includes the wait for event delivery.
	h.Flags.Flush(ctx)
	return finish(ctx, h.Metrics, log, "POST /quotes", engine, started, h.Now, resp), nil
}

// submit validates and queues the quote, once per Idempotency-Key. It returns the answer and the
// engine it names: a retry's answer is the first request's, engine included, even when the flag
// has changed since.
func (h SubmitQuote) submit(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, owner, plan string, engine pricing.Engine) (events.APIGatewayV2HTTPResponse, pricing.Engine) {
	fail := func(err error) (events.APIGatewayV2HTTPResponse, pricing.Engine) {
		return httpapi.ErrorResponse(ctx, log, err, keyReused, keyInProgress), engine
	}
	var body quoteRequest
	if err := httpapi.DecodeJSON(req, &body, maxQuoteBodyBytes); err != nil {
		return fail(err)
	}
	r := pricing.Request{SKU: body.SKU, Quantity: body.Quantity, Plan: plan}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	key, err := httpapi.IdempotencyKey(req)
	if err != nil {
		return fail(err)
	}

	queue := func(ctx context.Context) ([]byte, error) {
		job, err := h.Quotes.Submit(ctx, owner, r, engine, key)
		if err != nil {
			return nil, err
		}
		return json.Marshal(quoteAccepted{QuoteID: job.QuoteID, Engine: job.Engine})
	}
	var stored []byte
	if key == "" {
		stored, err = queue(ctx)
	} else {
		// Scoped by caller, so two callers who happen to pick the same key never share a quote.
		stored, err = h.Idempotency.Do(ctx, "quote/"+owner+"/"+key, fingerprint(body), submitClaim, queue)
	}
	if err != nil {
		return fail(err)
	}
	var answer quoteAccepted
	if err := json.Unmarshal(stored, &answer); err != nil {
		return fail(fmt.Errorf("decode stored answer: %w", err))
	}
	log.InfoContext(ctx, "quote accepted", "quoteId", answer.QuoteID, "sku", r.SKU)
	resp := httpapi.JSON(ctx, log, http.StatusAccepted, answer)
	resp = httpapi.WithHeader(resp, "Location", "/quotes/"+answer.QuoteID)
	return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds)), answer.Engine
}

// fingerprint identifies what was asked, whatever the JSON's spacing or member order, so that
// reusing a key for another quote is caught. The plan is not part of it: it comes from the
// caller's token, not from the request.
func fingerprint(body quoteRequest) string {
	canonical, _ := json.Marshal(body) // a string and an int always marshal
	return idempotency.Fingerprint(canonical)
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
	id, err := httpapi.PathID(req, "quoteId", httpapi.HexID, quotes.ErrNotFound)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, quoteNotFound), nil
	}
	q, err := h.Quotes.Get(ctx, sub, id)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err, quoteNotFound), nil
	}
	return httpapi.WithHeader(httpapi.JSON(ctx, h.Log, http.StatusOK, q), EngineHeader, string(q.Engine)), nil
}
