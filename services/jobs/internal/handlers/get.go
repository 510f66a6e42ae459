package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// JobGetter finds a caller's job (jobs.Reader).
type JobGetter interface {
	Get(ctx context.Context, owner, id string) (jobs.Job, error)
}

// Get handles GET /jobs/{jobId}.
type Get struct {
	Jobs        JobGetter
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// jobView is what a poller sees. Problem follows RFC 9457 so clients parse failures one way.
type jobView struct {
	JobID      string           `json:"jobId"`
	Status     jobs.Status      `json:"status"`
	Task       string           `json:"task"`
	Attempts   int              `json:"attempts"`
	CreatedAt  time.Time        `json:"createdAt"`
	StartedAt  *time.Time       `json:"startedAt,omitempty"`
	FinishedAt *time.Time       `json:"finishedAt,omitempty"`
	Result     *jobs.Result     `json:"result,omitempty"`
	Problem    *httpapi.Problem `json:"problem,omitempty"`
}

// Handle answers 202 + Retry-After while the job is PENDING or RUNNING, 200 once it is done
// (SUCCEEDED with its result; FAILED or TIMED_OUT with a problem), and 404 for an unknown id or
// another caller's job.
func (h Get) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	owner, err := httpapi.Subject(req)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	id, err := httpapi.PathID(req, "jobId", httpapi.HexID, jobs.ErrNotFound)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	job, err := h.Jobs.Get(ctx, owner, id)
	if err != nil {
		return h.fail(ctx, err), nil
	}

	view := jobView{
		JobID: job.ID, Status: job.Status, Task: job.Input.Task, Attempts: job.Attempts,
		CreatedAt: job.CreatedAt, StartedAt: job.StartedAt, FinishedAt: job.FinishedAt, Result: job.Result,
	}
	if job.Failure != nil {
		view.Problem = &httpapi.Problem{
			Type:   "https://github.com/go-serverless/reference/blob/main/services/jobs/README.md#" + string(job.Status),
			Title:  job.Failure.Reason,
			Status: http.StatusOK,
			Detail: job.Failure.Detail,
		}
	}
	if !job.Status.Done() {
		resp := httpapi.JSON(ctx, h.Log, http.StatusAccepted, view)
		return httpapi.WithHeader(resp, "Retry-After", fmt.Sprint(RetryAfterSeconds)), nil
	}
	return httpapi.JSON(ctx, h.Log, http.StatusOK, view), nil
}

func (h Get) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, h.Log, err,
		httpapi.ErrorRule{Err: jobs.ErrNotFound, Status: http.StatusNotFound, Title: "Job not found"})
}
