package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// sub is the caller in the testdata requests.
const sub = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

type fakeStarter struct {
	err   error
	calls []imports.Object
	owner string
}

func (f *fakeStarter) Start(_ context.Context, owner string, obj imports.Object) (imports.Import, bool, error) {
	f.calls = append(f.calls, obj)
	f.owner = owner
	if f.err != nil {
		return imports.Import{}, false, f.err
	}
	return imports.Import{ID: imports.ID(obj.Bucket, obj.Key, obj.ETag), Status: imports.StatusRunning, Key: obj.Key}, true, nil
}

type fakeHeader struct{ err error }

func (f fakeHeader) Head(_ context.Context, bucket, key string) (imports.Object, error) {
	if f.err != nil {
		return imports.Object{}, f.err
	}
	return imports.Object{Bucket: bucket, Key: key, ETag: "e1", Size: 10}, nil
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		headErr    error
		startErr   error
		wantStatus int
		wantParam  string
		wantStart  bool
	}{
		{name: "accepted", wantStatus: 202, wantStart: true},
		{name: "another user's prefix", body: `{"key":"imports/mallory/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "prefix only", body: `{"key":"imports/` + sub + `/"}`, wantStatus: 400, wantParam: "key"},
		{name: "outside imports", body: `{"key":"uploads/` + sub + `/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "unsupported type", body: `{"key":"imports/` + sub + `/orders.pdf"}`, wantStatus: 400, wantParam: "key"},
		{name: "no key", body: `{}`, wantStatus: 400, wantParam: "key"},
		{name: "unknown field", body: `{"key":"x","now":true}`, wantStatus: 400, wantParam: "now"},
		{name: "no such object", headErr: imports.ErrObjectNotFound, wantStatus: 422, wantParam: "key"},
		{name: "store down", startErr: errors.New("dynamodb: 10.0.0.1 refused"), wantStatus: 500, wantStart: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"create-import.json", &req)
			if tt.body != "" {
				req.Body = tt.body
			}
			starter := &fakeStarter{err: tt.startErr}
			h := Create{Imports: starter, Objects: fakeHeader{err: tt.headErr}, Bucket: "imports-bucket", Log: lambdatest.QuietLogger()}
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if got := len(starter.calls) > 0; got != tt.wantStart {
				t.Errorf("started = %v; want %v", got, tt.wantStart)
			}
			if strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("internal error leaked: %s", resp.Body)
			}
			if tt.wantParam != "" {
				if p := lambdatest.Problem(t, resp); len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam {
					t.Errorf("body %s; want invalid-params naming %s", resp.Body, tt.wantParam)
				}
			}
			if tt.wantStatus == 202 {
				want := imports.ID("imports-bucket", "imports/"+sub+"/orders-2026-11.csv", "e1")
				if resp.Headers["Location"] != "/imports/"+want || !strings.Contains(resp.Body, want) || starter.owner != sub {
					t.Errorf("answer %v %s (owner %s); want Location and importId %s for %s", resp.Headers, resp.Body, starter.owner, want, sub)
				}
			}
		})
	}
}

type fakeGetter struct {
	view imports.View
	err  error
}

func (f fakeGetter) Get(_ context.Context, owner, id string) (imports.View, error) {
	if f.err != nil {
		return imports.View{}, f.err
	}
	if owner != sub || id != f.view.ID {
		return imports.View{}, imports.ErrNotFound
	}
	return f.view, nil
}

func TestGet(t *testing.T) {
	id := "3f1c9a2b7d4e5f60718293a4b5c6d7e8"
	running := imports.View{Import: imports.Import{ID: id, Owner: sub, Status: imports.StatusRunning, Offset: 100, Size: 400, Line: 5, Accepted: 4, Rejected: 1, Invocations: 2},
		Rejects: []imports.Reject{{Line: 3, Reason: "amount is not a whole number"}}}
	done := running
	done.Status, done.Offset = imports.StatusSucceeded, 400
	tests := []struct {
		name       string
		getter     fakeGetter
		wantStatus int
		wantRetry  bool
		wantBody   []string
	}{
		{name: "running", getter: fakeGetter{view: running}, wantStatus: 200, wantRetry: true, wantBody: []string{`"bytesDone":100`, `"bytesTotal":400`, `"invocations":2`, `"rejects":[{"line":3`}},
		{name: "succeeded", getter: fakeGetter{view: done}, wantStatus: 200, wantBody: []string{`"status":"SUCCEEDED"`}},
		{name: "someone else's", getter: fakeGetter{view: imports.View{Import: imports.Import{ID: "other"}}}, wantStatus: 404},
		{name: "store down", getter: fakeGetter{err: errors.New("throttled")}, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-import.json", &req)
			resp, err := Get{Imports: tt.getter, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if got := resp.Headers["Retry-After"] != ""; got != tt.wantRetry {
				t.Errorf("Retry-After present = %v; want %v", got, tt.wantRetry)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(resp.Body, want) {
					t.Errorf("body %s; want it to contain %s", resp.Body, want)
				}
			}
		})
	}
}

type fakeSigner struct{ keys []string }

func (f *fakeSigner) Sign(_ context.Context, key string) (imports.SignedUpload, error) {
	f.keys = append(f.keys, key)
	return imports.SignedUpload{Key: key, URL: "https://s3.example/" + key + "?X-Amz-Signature=x", Method: http.MethodPut,
		Header: http.Header{"Host": {"s3.example"}}, ExpiresAt: time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)}, nil
}

func TestUpload(t *testing.T) {
	tests := []struct {
		name, body string
		wantStatus int
	}{
		{name: "signed", wantStatus: 201},
		{name: "path", body: `{"fileName":"a/b.csv"}`, wantStatus: 400},
		{name: "dot dot", body: `{"fileName":"..\\b.csv"}`, wantStatus: 400},
		{name: "control character", body: `{"fileName":"a\u0000.csv"}`, wantStatus: 400},
		{name: "type", body: `{"fileName":"orders.zip"}`, wantStatus: 400},
		{name: "empty", body: `{"fileName":""}`, wantStatus: 400},
		{name: "too long", body: `{"fileName":"` + strings.Repeat("a", 201) + `.csv"}`, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"create-import-upload.json", &req)
			if tt.body != "" {
				req.Body = tt.body
			}
			signer := &fakeSigner{}
			resp, err := Upload{Uploads: signer, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if tt.wantStatus != 201 {
				if len(signer.keys) != 0 {
					t.Errorf("signed %v for a bad request; want nothing signed", signer.keys)
				}
				return
			}
			if want := "imports/" + sub + "/orders-2026-11.csv"; len(signer.keys) != 1 || signer.keys[0] != want {
				t.Errorf("signed %v; want [%s]", signer.keys, want)
			}
			if strings.Contains(resp.Body, `"Host"`) || !strings.Contains(resp.Body, `"method":"PUT"`) {
				t.Errorf("body %s; want the PUT without a Host header to set", resp.Body)
			}
		})
	}
}

func TestStartFromS3Notification(t *testing.T) {
	var event events.S3Event
	lambdatest.Event(t, testdata+"start-import.json", &event)
	starter := &fakeStarter{}
	if err := (Start{Imports: starter, Log: lambdatest.QuietLogger()}).Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	// The second record has no owner in its key and is ignored; the first key is URL-decoded.
	if len(starter.calls) != 1 || starter.calls[0].Key != "imports/"+sub+"/orders 2026-11.csv" || starter.owner != sub || starter.calls[0].Size != 48213 {
		t.Fatalf("starts = %+v (owner %s); want one for the decoded key of %s", starter.calls, starter.owner, sub)
	}
	starter.err = errors.New("dynamodb down")
	if err := (Start{Imports: starter, Log: lambdatest.QuietLogger()}).Handle(context.Background(), event); err == nil {
		t.Error("Handle with the store down = nil; want an error so Lambda retries the event")
	}
}

type fakeProcessor struct {
	links []imports.Link
	err   error
}

func (f *fakeProcessor) Process(ctx context.Context, link imports.Link) error {
	f.links = append(f.links, link)
	return f.err
}

func TestProcess(t *testing.T) {
	var link imports.Link
	lambdatest.Event(t, testdata+"process-import.json", &link)
	p := &fakeProcessor{}
	if err := (Process{Imports: p, Log: lambdatest.QuietLogger()}).Handle(context.Background(), link); err != nil {
		t.Fatal(err)
	}
	if len(p.links) != 1 || p.links[0].Offset != 1048576 || p.links[0].Depth != 3 || p.links[0].CorrelationID != "checkout-7f3a" {
		t.Errorf("processed %+v; want the link as sent", p.links)
	}
	p.err = errors.New("throttled")
	if err := (Process{Imports: p, Log: lambdatest.QuietLogger()}).Handle(context.Background(), link); err == nil {
		t.Error("Handle = nil when processing failed; want the error, so Lambda retries the link")
	}
	if err := (Process{Imports: p, Log: lambdatest.QuietLogger()}).Handle(context.Background(), imports.Link{}); err != nil || len(p.links) != 2 {
		t.Errorf("a link without importId: %v, %d processed; want it dropped without error", err, len(p.links))
	}
}

type fakeBroken struct {
	links  []imports.Link
	causes []string
}

func (f *fakeBroken) Broken(_ context.Context, link imports.Link, cause string) (bool, error) {
	f.links = append(f.links, link)
	f.causes = append(f.causes, cause)
	return true, nil
}

func TestFailMarksBrokenChains(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"fail-import.json", &event)
	b := &fakeBroken{}
	resp, err := Fail{Imports: b, Log: lambdatest.QuietLogger()}.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	// The chain's record fails its import; the start's record is logged; the malformed one is
	// retried and ends in the failure queue's dead-letter queue.
	if len(b.links) != 1 || b.links[0].ImportID != "3f1c9a2b7d4e5f60718293a4b5c6d7e8" || b.links[0].Depth != 3 {
		t.Fatalf("broken links %+v; want the ProcessImportFunction record's link", b.links)
	}
	if !strings.Contains(b.causes[0], "RetriesExhausted after 3 attempts") || !strings.Contains(b.causes[0], "exceeded maximum number of attempts") {
		t.Errorf("cause %q; want the condition, attempts and error message", b.causes[0])
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "1a2b3c4d-0000-4e5f-8a9b-0c1d2e3f4a5b" {
		t.Errorf("batch item failures %+v; want only the malformed record", resp.BatchItemFailures)
	}
}
