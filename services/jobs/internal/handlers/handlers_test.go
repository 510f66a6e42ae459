package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

const sub = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"

type submitCall struct {
	owner, key, correlationID string
	in                        jobs.Input
}

type fakeSubmitter struct {
	calls []submitCall
	err   error
}

func (f *fakeSubmitter) Submit(_ context.Context, owner string, in jobs.Input, key, correlationID string) (jobs.Job, error) {
	f.calls = append(f.calls, submitCall{owner, key, correlationID, in})
	if f.err != nil {
		return jobs.Job{}, f.err
	}
	return jobs.Job{ID: "0123456789abcdef0123456789abcdef", Status: jobs.StatusPending}, nil
}

// fakeIdempotency runs fn, or fails with err; it records the key and fingerprint it was given.
type fakeIdempotency struct {
	key, fingerprint string
	err              error
}

func (f *fakeIdempotency) Do(ctx context.Context, key, fingerprint string, _ time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	f.key, f.fingerprint = key, fingerprint
	if f.err != nil {
		return nil, f.err
	}
	return fn(ctx)
}

func TestSubmitAccepts(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-job.json", &req)
	submitter, idem := &fakeSubmitter{}, &fakeIdempotency{}
	h := Submit{Jobs: submitter, Idempotency: idem, Log: lambdatest.QuietLogger()}

	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || resp.Headers["Location"] != "/jobs/0123456789abcdef0123456789abcdef" || resp.Headers["Retry-After"] != "2" {
		t.Fatalf("response = %d %v; want 202 with Location and Retry-After", resp.StatusCode, resp.Headers)
	}
	if resp.Headers["x-correlation-id"] != "checkout-7f3a" {
		t.Errorf("x-correlation-id = %q; want the caller's checkout-7f3a echoed", resp.Headers["x-correlation-id"])
	}
	want := submitCall{owner: sub, key: "order-42", correlationID: "checkout-7f3a", in: jobs.Input{Task: "resize-image", DurationMS: 300, Outcome: jobs.OutcomeSucceed}}
	if len(submitter.calls) != 1 || submitter.calls[0] != want {
		t.Errorf("Submit calls = %+v; want [%+v]", submitter.calls, want)
	}
	if idem.key != "submit/"+sub+"/order-42" {
		t.Errorf("idempotency key = %q; want it scoped to the caller", idem.key)
	}
	// Same request with other spacing and key order: same fingerprint.
	other := req
	other.Body = `{ "durationMs": 300, "task": "resize-image" }`
	first := idem.fingerprint
	if _, err := h.Handle(context.Background(), other); err != nil || idem.fingerprint != first {
		t.Errorf("fingerprint changed with JSON formatting: %q vs %q", idem.fingerprint, first)
	}
}

func TestSubmitWithoutKeySkipsIdempotency(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-job.json", &req)
	delete(req.Headers, "idempotency-key")
	submitter, idem := &fakeSubmitter{}, &fakeIdempotency{err: errors.New("must not be called")}
	resp, _ := Submit{Jobs: submitter, Idempotency: idem, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	if resp.StatusCode != 202 || len(submitter.calls) != 1 || submitter.calls[0].key != "" {
		t.Fatalf("response %d, calls %+v; want 202 and one submission without key", resp.StatusCode, submitter.calls)
	}
}

func TestSubmitRejects(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		idemErr    error
		submitErr  error
		wantStatus int
		wantParam  string
		// wantRetryAfter says the answer tells the client when to try again.
		wantRetryAfter bool
		// submits says whether the submitter may be reached (only for errors that happen after validation).
		submits bool
	}{
		{name: "malformed JSON", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":` }, wantStatus: 400},
		{name: "unknown field", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","extra":1}` }, wantStatus: 400, wantParam: "extra"},
		{name: "wrong type", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","durationMs":"slow"}` }, wantStatus: 400, wantParam: "durationMs"},
		{name: "invalid value", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":""}` }, wantStatus: 400, wantParam: "task"},
		{name: "not JSON", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "text/plain" }, wantStatus: 415},
		{name: "key too long", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["idempotency-key"] = strings.Repeat("k", 256) }, wantStatus: 400, wantParam: "Idempotency-Key"},
		{name: "no subject", edit: func(r *events.APIGatewayV2HTTPRequest) { delete(r.RequestContext.Authorizer.JWT.Claims, "sub") }, wantStatus: 401},
		{name: "key reused for another request", idemErr: idempotency.ErrFingerprintMismatch, wantStatus: 422},
		{name: "key in progress", idemErr: idempotency.ErrInProgress, wantStatus: 409, wantRetryAfter: true},
		// Strict decoding: a name in another case, or twice, is refused, never matched or overwritten.
		{name: "name in another case", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","DurationMs":5}` }, wantStatus: 400, wantParam: "DurationMs"},
		{name: "duplicate name", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","task":"y"}` }, wantStatus: 400, wantParam: "task"},
		{name: "null body", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `null` }, wantStatus: 400},
		// As nanoseconds, 9223372036855 ms wraps to -8 s and 2^58 + 1000 ms to exactly 1 s.
		{name: "duration that wraps negative", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","durationMs":9223372036855}` }, wantStatus: 400, wantParam: "durationMs"},
		{name: "duration that wraps into range", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","durationMs":288230376151712744}` }, wantStatus: 400, wantParam: "durationMs"},
		{name: "duration beyond int64", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"task":"x","durationMs":92233720368547758070}` }, wantStatus: 400, wantParam: "durationMs"},
		// A subject that would make "submit/{sub}/{key}" ambiguous, or too long for a key.
		{name: "subject with a slash", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer.JWT.Claims["sub"] = "a/b" }, wantStatus: 403},
		{name: "subject of 2,000 characters", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.RequestContext.Authorizer.JWT.Claims["sub"] = strings.Repeat("s", 2000)
		}, wantStatus: 403},
		{name: "store down", submitErr: errors.New("dynamodb: connection refused to 10.0.0.1"), wantStatus: 500, submits: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"submit-job.json", &req)
			if tt.edit != nil {
				tt.edit(&req)
			}
			submitter := &fakeSubmitter{err: tt.submitErr}
			resp, err := Submit{Jobs: submitter, Idempotency: &fakeIdempotency{err: tt.idemErr}, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			p := lambdatest.Problem(t, resp)
			if tt.wantParam != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam) {
				t.Errorf("invalid-params = %+v; want %q named", p.InvalidParams, tt.wantParam)
			}
			if got := resp.Headers["Retry-After"] != ""; got != tt.wantRetryAfter {
				t.Errorf("Retry-After %q; want one: %v", resp.Headers["Retry-After"], tt.wantRetryAfter)
			}
			if !tt.submits && len(submitter.calls) != 0 {
				t.Errorf("submitted %d jobs; want none", len(submitter.calls))
			}
			if strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("internal error leaked to the caller: %s", resp.Body)
			}
		})
	}
}

type fakeGetter struct {
	job jobs.Job
	err error
}

func (f fakeGetter) Get(_ context.Context, owner, id string) (jobs.Job, error) {
	if f.err != nil {
		return jobs.Job{}, f.err
	}
	if owner != sub || id != "0123456789abcdef0123456789abcdef" {
		return jobs.Job{}, jobs.ErrNotFound
	}
	return f.job, nil
}

func TestGet(t *testing.T) {
	created := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	base := jobs.Job{ID: "0123456789abcdef0123456789abcdef", Owner: sub, Input: jobs.Input{Task: "resize-image"}, CreatedAt: created}
	with := func(status jobs.Status, edit func(*jobs.Job)) jobs.Job {
		j := base
		j.Status = status
		if edit != nil {
			edit(&j)
		}
		return j
	}
	tests := []struct {
		name         string
		id, sub      string // replace the fixture's when set
		getter       fakeGetter
		wantStatus   int
		wantRetry    bool
		wantInBody   string
		wantNotFound bool
	}{
		{name: "pending", getter: fakeGetter{job: with(jobs.StatusPending, nil)}, wantStatus: 202, wantRetry: true, wantInBody: `"status":"PENDING"`},
		{name: "running", getter: fakeGetter{job: with(jobs.StatusRunning, func(j *jobs.Job) { j.Attempts = 1 })}, wantStatus: 202, wantRetry: true, wantInBody: `"attempts":1`},
		{name: "succeeded", getter: fakeGetter{job: with(jobs.StatusSucceeded, func(j *jobs.Job) { j.Result = &jobs.Result{Output: "processed resize-image"} })}, wantStatus: 200, wantInBody: `"output":"processed resize-image"`},
		{name: "failed", getter: fakeGetter{job: with(jobs.StatusFailed, func(j *jobs.Job) { j.Failure = &jobs.Failure{Reason: "task failed", Detail: "cannot"} })}, wantStatus: 200, wantInBody: `"title":"task failed"`},
		{name: "timed out", getter: fakeGetter{job: with(jobs.StatusTimedOut, func(j *jobs.Job) { j.Failure = &jobs.Failure{Reason: "deadline passed"} })}, wantStatus: 200, wantInBody: `"status":"TIMED_OUT"`},
		{name: "not found", getter: fakeGetter{err: jobs.ErrNotFound}, wantStatus: 404},
		// An id no job can have is not looked up: DynamoDB would refuse a 3,000-byte key with a 500.
		{name: "id of 3,000 characters", id: strings.Repeat("a", 3000), getter: fakeGetter{err: errors.New("ValidationException: key too large")}, wantStatus: 404},
		{name: "id with other characters", id: "0123456789abcdef0123456789abcde/", getter: fakeGetter{err: errors.New("must not be asked")}, wantStatus: 404},
		{name: "subject with a slash", sub: "a/b", getter: fakeGetter{err: errors.New("must not be asked")}, wantStatus: 403},
		{name: "store down", getter: fakeGetter{err: errors.New("throttled")}, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-job.json", &req)
			if tt.id != "" {
				req.PathParameters["jobId"] = tt.id
			}
			if tt.sub != "" {
				req.RequestContext.Authorizer.JWT.Claims["sub"] = tt.sub
			}
			resp, err := Get{Jobs: tt.getter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if got := resp.Headers["Retry-After"] != ""; got != tt.wantRetry {
				t.Errorf("Retry-After present = %v; want %v", got, tt.wantRetry)
			}
			if !strings.Contains(resp.Body, tt.wantInBody) {
				t.Errorf("body %s; want it to contain %s", resp.Body, tt.wantInBody)
			}
		})
	}
}

type fakeProcessor struct {
	attempts map[string]int
	fail     map[string]bool
}

func (f *fakeProcessor) Process(_ context.Context, task jobs.Task, attempt int) error {
	f.attempts[task.JobID] = attempt
	if f.fail[task.JobID] {
		return errors.New("downstream unavailable")
	}
	return nil
}

func TestProcessReportsOnlyFailedMessages(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"process-job.json", &event)
	p := &fakeProcessor{attempts: map[string]int{}, fail: map[string]bool{"ffffffffffffffffffffffffffffffff": true}}
	resp, err := Process{Jobs: p, Log: lambdatest.QuietLogger()}.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	want := []string{"2e1424d4-f796-459a-8184-9c92662be6da", "c2b1f0e9-1d2c-4b3a-9f8e-7d6c5b4a3f2e"}
	if strings.Join(failed, ",") != strings.Join(want, ",") {
		t.Errorf("batch item failures = %v; want %v (the failed job and the malformed message)", failed, want)
	}
	if p.attempts["0123456789abcdef0123456789abcdef"] != 1 || p.attempts["ffffffffffffffffffffffffffffffff"] != 3 {
		t.Errorf("attempts = %v; want 1 and 3 from ApproximateReceiveCount", p.attempts)
	}
}
