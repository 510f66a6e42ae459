package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/idempotency"
)

// Limits on a submission.
const (
	// MaxBodyBytes bounds the request body; a job's input is small.
	MaxBodyBytes = 16 * 1024
	// RetryAfterSeconds is what 202 answers tell a poller to wait.
	RetryAfterSeconds = 2
	// submitClaim is how long a submission holds its Idempotency-Key while it runs: longer than
	// SubmitJobFunction's Timeout, so a retry never runs alongside the first attempt.
	submitClaim = 10 * time.Second
	// inProgressRetryAfter is what a 409 tells a client whose retry found the first attempt still
	// running: a submission usually takes well under a second.
	inProgressRetryAfter = 2 * time.Second
)

// JobSubmitter records and queues a job (jobs.Submitter).
type JobSubmitter interface {
	Submit(ctx context.Context, owner string, in jobs.Input, idempotencyKey, correlationID string) (jobs.Job, error)
}

// Idempotency runs fn once per key (*idempotency.Store).
type Idempotency interface {
	Do(ctx context.Context, key, fingerprint string, inProgressFor time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error)
}

// Submit handles POST /jobs.
type Submit struct {
	Jobs        JobSubmitter
	Idempotency Idempotency
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// accepted is the body of a 202 answer; with an Idempotency-Key it is also what is stored and replayed.
type accepted struct {
	JobID  string      `json:"jobId"`
	Status jobs.Status `json:"status"`
}

// Handle validates the request, submits the job (once per Idempotency-Key) and answers 202.
func (h Submit) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ids := h.Correlation.HTTP(req)
	ctx = correlation.NewContext(ctx, ids)

	owner, err := httpapi.Subject(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	var in jobs.Input
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

	submit := func(ctx context.Context) ([]byte, error) {
		job, err := h.Jobs.Submit(ctx, owner, in, key, ids.CorrelationID)
		if err != nil {
			return nil, err
		}
		return json.Marshal(accepted{JobID: job.ID, Status: job.Status})
	}
	var body []byte
	if key == "" {
		body, err = submit(ctx)
	} else {
		// Scoped by caller, so two callers who happen to pick the same key never share a job.
		body, err = h.Idempotency.Do(ctx, "submit/"+owner+"/"+key, fingerprint(in), submitClaim, submit)
	}
	if err != nil {
		return h.fail(ctx, err), nil
	}
	var answer accepted
	if err := json.Unmarshal(body, &answer); err != nil {
		return h.fail(ctx, fmt.Errorf("decode stored answer: %w", err)), nil
	}
	h.Log.InfoContext(ctx, "job accepted", "jobId", answer.JobID)
	resp := httpapi.JSON(ctx, h.Log, http.StatusAccepted, answer)
	resp = httpapi.WithHeader(resp, "Location", "/jobs/"+answer.JobID)
	return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds)), nil
}

func (h Submit) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, h.Log, err,
		httpapi.ErrorRule{Err: idempotency.ErrFingerprintMismatch, Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused for a different request"},
		httpapi.ErrorRule{Err: jobs.ErrKeyReused, Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused for a different request"},
		// The first request finishes within submitClaim; a second or two later its answer is there to replay.
		httpapi.ErrorRule{Err: idempotency.ErrInProgress, Status: http.StatusConflict, Title: "A request with this Idempotency-Key is in progress", RetryAfter: inProgressRetryAfter},
	)
}

// fingerprint identifies what was asked, whatever the JSON's spacing or key order, so reusing a key
// for a different job is caught.
func fingerprint(in jobs.Input) string {
	canonical, _ := json.Marshal(in) // a struct of strings and ints always marshals
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}
