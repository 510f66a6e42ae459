package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

const (
	sub     = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"
	batchID = "0123456789abcdef0123456789abcdef"
)

type submitCall struct {
	owner, key, correlationID string
	in                        fanout.Input
}

type fakeSubmitter struct {
	calls []submitCall
	err   error
	// found, when set, is the batch a retry with the same Idempotency-Key finds.
	found *fanout.Batch
}

func (f *fakeSubmitter) Submit(_ context.Context, owner string, in fanout.Input, key, correlationID string) (fanout.Batch, error) {
	f.calls = append(f.calls, submitCall{owner, key, correlationID, in})
	if f.err != nil {
		return fanout.Batch{}, f.err
	}
	if f.found != nil {
		return *f.found, nil
	}
	return fanout.Batch{ID: batchID, Status: fanout.StatusRunning, Total: len(in.Items)}, nil
}

func TestSubmitAccepts(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-batch.json", &req)
	submitter := &fakeSubmitter{}
	resp, err := Submit{Batches: submitter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || resp.Headers["Location"] != "/batches/"+batchID || resp.Headers["Retry-After"] != "2" {
		t.Fatalf("response = %d %v; want 202 with Location and Retry-After", resp.StatusCode, resp.Headers)
	}
	if want := `{"batchId":"` + batchID + `","status":"RUNNING","total":3}`; resp.Body != want {
		t.Errorf("body = %s; want %s", resp.Body, want)
	}
	if len(submitter.calls) != 1 {
		t.Fatalf("%d submissions; want 1", len(submitter.calls))
	}
	c := submitter.calls[0]
	if c.owner != sub || c.key != "nightly-2026-11-30" || c.correlationID != "checkout-7f3a" || len(c.in.Items) != 3 || !c.in.Items[2].Fail {
		t.Errorf("Submit call = %+v; want the caller, key, correlation id and the 3 items", c)
	}
}

func TestSubmitRejects(t *testing.T) {
	many := make([]string, fanout.MaxItems+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"id":"i%d"}`, i)
	}
	tests := []struct {
		name       string
		body       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		submitErr  error
		wantStatus int
		wantParam  string
		submits    bool
	}{
		{name: "malformed JSON", body: `{"items":[`, wantStatus: 400},
		{name: "no items", body: `{"items":[]}`, wantStatus: 400, wantParam: "items"},
		{name: "items missing", body: `{}`, wantStatus: 400, wantParam: "items"},
		{name: "10,001 items", body: `{"items":[` + strings.Join(many, ",") + `]}`, wantStatus: 400, wantParam: "items"},
		{name: "unknown field", body: `{"items":[{"id":"a","colour":"red"}]}`, wantStatus: 400, wantParam: "colour"},
		{name: "wrong type", body: `{"items":[{"id":"a","durationMs":"slow"}]}`, wantStatus: 400, wantParam: "items[0].durationMs"},
		{name: "name in another case", body: `{"items":[{"id":"a","DurationMs":5}]}`, wantStatus: 400, wantParam: "DurationMs"},
		{name: "null body", body: `null`, wantStatus: 400},
		// As nanoseconds, 9223372036855 ms wraps to -8 s and 2^58 + 1000 ms to exactly 1 s.
		{name: "duration that wraps negative", body: `{"items":[{"id":"a"},{"id":"b","durationMs":9223372036855}]}`, wantStatus: 400, wantParam: "items[1].durationMs"},
		{name: "duration that wraps into range", body: `{"items":[{"id":"a","durationMs":288230376151712744}]}`, wantStatus: 400, wantParam: "items[0].durationMs"},
		{name: "subject with a slash", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer.JWT.Claims["sub"] = "a/b" }, wantStatus: 403},
		{name: "duplicate id", body: `{"items":[{"id":"a"},{"id":"a"}]}`, wantStatus: 400, wantParam: "items[1].id"},
		{name: "not JSON", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "text/plain" }, wantStatus: 415},
		{name: "key too long", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["idempotency-key"] = strings.Repeat("k", 256) }, wantStatus: 400, wantParam: "Idempotency-Key"},
		{name: "no subject", edit: func(r *events.APIGatewayV2HTTPRequest) { delete(r.RequestContext.Authorizer.JWT.Claims, "sub") }, wantStatus: 401},
		{name: "key reused", submitErr: fmt.Errorf("record batch: %w", fanout.ErrFingerprintMismatch), wantStatus: 422, submits: true},
		{name: "store down", submitErr: errors.New("dynamodb: connection refused to 10.0.0.1"), wantStatus: 500, submits: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"submit-batch.json", &req)
			if tt.body != "" {
				req.Body = tt.body
			}
			if tt.edit != nil {
				tt.edit(&req)
			}
			submitter := &fakeSubmitter{err: tt.submitErr}
			resp, err := Submit{Batches: submitter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
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
			if !tt.submits && len(submitter.calls) != 0 {
				t.Errorf("submitted %d batches; want none", len(submitter.calls))
			}
			if strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("internal error leaked: %s", resp.Body)
			}
		})
	}
}

type fakeGetter struct {
	b   fanout.Batch
	err error
}

func (f fakeGetter) Get(_ context.Context, owner, id string) (fanout.Batch, error) {
	if f.err != nil {
		return fanout.Batch{}, f.err
	}
	if owner != sub || id != batchID {
		return fanout.Batch{}, fanout.ErrNotFound
	}
	return f.b, nil
}

// A retry after "fan-out interrupted" finds the FAILED batch its key names; the answer must say
// that only a new key runs the items again, not 202 as if they were accepted.
func TestSubmitRetryOfFailedBatchAsksForANewKey(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-batch.json", &req)
	failed := fanout.Batch{ID: batchID, Owner: sub, Status: fanout.StatusFailed, Total: 3, Failure: &fanout.Failure{Reason: "fan-out interrupted"}}
	resp, err := Submit{Batches: &fakeSubmitter{found: &failed}, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 409 {
		t.Fatalf("status = %d %s; want 409", resp.StatusCode, resp.Body)
	}
	p := lambdatest.Problem(t, resp)
	if !strings.Contains(p.Detail, "new Idempotency-Key") || !strings.Contains(p.Detail, "fan-out interrupted") {
		t.Errorf("detail = %q; want it to say the batch was interrupted and a new Idempotency-Key runs it", p.Detail)
	}
	if resp.Headers["Location"] != "/batches/"+batchID || resp.Headers["Retry-After"] != "" {
		t.Errorf("headers = %v; want Location of the failed batch and no Retry-After (retrying cannot help)", resp.Headers)
	}
}

func TestGet(t *testing.T) {
	started := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	with := func(status fanout.Status, edit func(*fanout.Batch)) fanout.Batch {
		b := fanout.Batch{ID: batchID, Owner: sub, Status: status, Total: 3, Remaining: 3, StartedAt: started}
		if edit != nil {
			edit(&b)
		}
		return b
	}
	tests := []struct {
		name       string
		getter     fakeGetter
		wantStatus int
		wantRetry  bool
		wantInBody string
	}{
		{"running", fakeGetter{b: with(fanout.StatusRunning, func(b *fanout.Batch) { b.Completed = 1 })}, 202, true, `"completed":1`},
		{"aggregating", fakeGetter{b: with(fanout.StatusAggregating, nil)}, 202, true, `"status":"AGGREGATING"`},
		{"succeeded", fakeGetter{b: with(fanout.StatusSucceeded, func(b *fanout.Batch) { b.Result = &fanout.Result{Succeeded: 3} })}, 200, false, `"result":{"succeeded":3`},
		{"with errors", fakeGetter{b: with(fanout.StatusCompletedWithErrors, func(b *fanout.Batch) {
			b.Result = &fanout.Result{Succeeded: 2, Failed: 1, FailedItems: []fanout.FailedItem{{ID: "c", Reason: "retries exhausted"}}}
		})}, 200, false, `"failedItems":[{"id":"c"`},
		{"failed", fakeGetter{b: with(fanout.StatusFailed, func(b *fanout.Batch) { b.Failure = &fanout.Failure{Reason: "deadline passed"} })}, 200, false, `"title":"deadline passed"`},
		{"not found", fakeGetter{err: fanout.ErrNotFound}, 404, false, `"Batch not found"`},
		{"store down", fakeGetter{err: errors.New("throttled")}, 500, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-batch.json", &req)
			resp, err := Get{Batches: tt.getter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
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

// An id no batch can have is answered as an unknown one without a lookup: DynamoDB would refuse a
// 3,000-byte key with a ValidationException, a 500.
func TestGetRefusesIDsNoBatchHas(t *testing.T) {
	for _, id := range []string{strings.Repeat("a", 3000), "0123456789ABCDEF0123456789ABCDEF", "../" + batchID} {
		var req events.APIGatewayV2HTTPRequest
		lambdatest.Event(t, testdata+"get-batch.json", &req)
		req.PathParameters["batchId"] = id
		getter := fakeGetter{err: errors.New("ValidationException: key too large")}
		resp, err := Get{Batches: getter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 404 || lambdatest.Problem(t, resp).Title != "Batch not found" {
			t.Errorf("GET /batches/%.20s... = %d %s; want the 404 of an unknown batch", id, resp.StatusCode, resp.Body)
		}
	}
}

// fakeSubtasks fails the items named in fail and records what it was given.
type fakeSubtasks struct {
	got  []fanout.Subtask
	fail map[string]bool
}

func (f *fakeSubtasks) Process(_ context.Context, task fanout.Subtask) error {
	f.got = append(f.got, task)
	if f.fail[task.Item.ID] {
		return errors.New("work failed")
	}
	return nil
}

func (f *fakeSubtasks) Record(ctx context.Context, task fanout.Subtask) error {
	return f.Process(ctx, task)
}

func failedIDs(resp events.SQSEventResponse) string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return strings.Join(ids, ",")
}

func TestProcessReportsOnlyFailedMessages(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"process-subtask.json", &event)
	f := &fakeSubtasks{fail: map[string]bool{"c": true}}
	resp, err := Process{Subtasks: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failedIDs(resp), "2e1424d4-f796-459a-8184-9c92662be6da,c2b1f0e9-1d2c-4b3a-9f8e-7d6c5b4a3f2e"; got != want {
		t.Errorf("batch item failures = %s; want %s (the failing item and the malformed message)", got, want)
	}
	if len(f.got) != 2 || f.got[0].BatchID != batchID || f.got[0].Item.ID != "a" || !f.got[1].Item.Fail {
		t.Errorf("subtasks = %+v; want a and c of %s", f.got, batchID)
	}
}

func TestRecordFailure(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"record-failed-subtask.json", &event)
	f := &fakeSubtasks{}
	resp, err := RecordFailure{Subtasks: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 || len(f.got) != 1 || f.got[0].Item.ID != "c" {
		t.Errorf("failures %v, recorded %+v; want c recorded and nothing retried", resp.BatchItemFailures, f.got)
	}
}

type fakeAggregator struct{ got []string }

func (f *fakeAggregator) Aggregate(_ context.Context, id string) error {
	f.got = append(f.got, id)
	return nil
}

func TestAggregate(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"aggregate-batch.json", &event)
	bad := event.Records[0]
	bad.MessageId, bad.Body = "bad", `{"batchId":"../etc"}`
	event.Records = append(event.Records, bad)
	f := &fakeAggregator{}
	resp, err := Aggregate{Batches: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if failedIDs(resp) != "bad" || len(f.got) != 1 || f.got[0] != batchID {
		t.Errorf("failures %s, aggregated %v; want only the bad message failed and %s aggregated", failedIDs(resp), f.got, batchID)
	}
}
