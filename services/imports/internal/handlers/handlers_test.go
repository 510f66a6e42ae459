package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strconv"
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
		// wantKey is the key of an accepted import when the body is not the fixture's.
		wantKey string
		// sub replaces the caller when set.
		sub string
	}{
		{name: "accepted", wantStatus: 202, wantStart: true},
		{name: "another user's prefix", body: `{"key":"imports/mallory/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "prefix only", body: `{"key":"imports/` + sub + `/"}`, wantStatus: 400, wantParam: "key"},
		{name: "outside imports", body: `{"key":"uploads/` + sub + `/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "unsupported type", body: `{"key":"imports/` + sub + `/orders.pdf"}`, wantStatus: 400, wantParam: "key"},
		{name: "no key", body: `{}`, wantStatus: 400, wantParam: "key"},
		{name: "dot-dot into another user", body: `{"key":"imports/` + sub + `/../mallory/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "dot segment", body: `{"key":"imports/` + sub + `/./orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "double slash", body: `{"key":"imports/` + sub + `//orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "dots inside a name are fine", body: `{"key":"imports/` + sub + `/orders..2026.csv"}`, wantStatus: 202, wantStart: true, wantKey: "imports/" + sub + "/orders..2026.csv"},
		{name: "unknown field", body: `{"key":"x","now":true}`, wantStatus: 400, wantParam: "now"},
		// Keys S3 cannot take answered 500 from HeadObject; they are refused before it.
		{name: "NUL in the key", body: `{"key":"imports/` + sub + `/orders\u0000.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "newline in the key", body: `{"key":"imports/` + sub + `/orders\n.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "right-to-left override in the key", body: `{"key":"imports/` + sub + `/invoice\u202evsc.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "key over 1024 bytes", body: `{"key":"imports/` + sub + `/` + strings.Repeat("a", 1024) + `.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "name in another case", body: `{"Key":"imports/` + sub + `/orders.csv"}`, wantStatus: 400, wantParam: "Key"},
		{name: "key twice", body: `{"key":"imports/` + sub + `/orders.csv","key":"imports/mallory/orders.csv"}`, wantStatus: 400, wantParam: "key"},
		{name: "null body", body: `null`, wantStatus: 400},
		{name: "no such object", headErr: imports.ErrObjectNotFound, wantStatus: 422, wantParam: "key"},
		// User "a/b"'s prefix imports/a/b/ lies inside user "a"'s: such a subject is refused.
		{name: "subject with a slash", sub: "a/b", body: `{"key":"imports/a/b/orders.csv"}`, wantStatus: 403},
		{name: "store down", startErr: errors.New("dynamodb: 10.0.0.1 refused"), wantStatus: 500, wantStart: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"create-import.json", &req)
			if tt.body != "" {
				req.Body = tt.body
			}
			if tt.sub != "" {
				req.RequestContext.Authorizer.JWT.Claims["sub"] = tt.sub
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
				key := "imports/" + sub + "/orders-2026-11.csv"
				if tt.wantKey != "" {
					key = tt.wantKey
				}
				want := imports.ID("imports-bucket", key, "e1")
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
	running := imports.View{Import: imports.Import{ID: id, Owner: sub, Status: imports.StatusRunning, Offset: 100, Size: 400, Line: 5, Accepted: 4, Rejected: 1, Invocations: 2,
		Hops: []imports.Hop{{Depth: 0}, {Depth: 1, Offset: 60, Line: 3}}},
		Rejects: []imports.Reject{{Line: 3, Reason: "amount is not a whole number"}}}
	done := running
	done.Status, done.Offset = imports.StatusSucceeded, 400
	tests := []struct {
		name       string
		id         string // replaces the fixture's when set
		getter     fakeGetter
		wantStatus int
		wantRetry  bool
		wantBody   []string
	}{
		{name: "running", getter: fakeGetter{view: running}, wantStatus: 200, wantRetry: true, wantBody: []string{`"bytesDone":100`, `"bytesTotal":400`, `"invocations":2`, `"rejects":[{"line":3`,
			`"hops":[{"hop":0,"offset":0,"line":0},{"hop":1,"offset":60,"line":3}]`}},
		{name: "succeeded", getter: fakeGetter{view: done}, wantStatus: 200, wantBody: []string{`"status":"SUCCEEDED"`}},
		{name: "not started", getter: fakeGetter{view: imports.View{Import: imports.Import{ID: id, Owner: sub, Status: imports.StatusRunning, Size: 400}}}, wantStatus: 200, wantRetry: true,
			wantBody: []string{`"hops":[]`, `"rejects":[]`}},
		{name: "someone else's", getter: fakeGetter{view: imports.View{Import: imports.Import{ID: "other"}}}, wantStatus: 404},
		{name: "store down", getter: fakeGetter{err: errors.New("throttled")}, wantStatus: 500},
		// An id no import can have is not looked up: DynamoDB would refuse a 3,000-byte key with a 500.
		{name: "id of 3,000 characters", id: strings.Repeat("a", 3000), getter: fakeGetter{err: errors.New("ValidationException")}, wantStatus: 404},
		{name: "id in capitals", id: strings.ToUpper(id), getter: fakeGetter{err: errors.New("ValidationException")}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-import.json", &req)
			if tt.id != "" {
				req.PathParameters["importId"] = tt.id
			}
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

// fakeSigner records what it signs and answers with the headers a real signature covers.
type fakeSigner struct{ signed []signedPut }

type signedPut struct {
	key         string
	size        int64
	contentType string
}

func (f *fakeSigner) Sign(_ context.Context, key string, size int64, contentType string) (imports.SignedUpload, error) {
	f.signed = append(f.signed, signedPut{key: key, size: size, contentType: contentType})
	header := http.Header{"Host": {"s3.example"}, "Content-Length": {strconv.FormatInt(size, 10)}, "Content-Type": {contentType}}
	return imports.SignedUpload{Key: key, URL: "https://s3.example/" + key + "?X-Amz-Signature=x", Method: http.MethodPut,
		Header: header, ExpiresAt: time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)}, nil
}

func TestUpload(t *testing.T) {
	const maxSize = 4096
	file := func(extra string) string { return `{"fileName":"orders-2026-11.csv",` + extra + `}` }
	tests := []struct {
		name, body string
		wantStatus int
		wantParam  string
		// want is what is signed when the answer is 201.
		want signedPut
	}{
		{name: "signed", wantStatus: 201, want: signedPut{"imports/" + sub + "/orders-2026-11.csv", 2048, "text/csv"}},
		{name: "at the maximum", body: file(`"size":4096`), wantStatus: 201, want: signedPut{"imports/" + sub + "/orders-2026-11.csv", maxSize, "text/csv"}},
		{name: "declared content type", body: file(`"size":10,"contentType":"text/csv"`), wantStatus: 201, want: signedPut{"imports/" + sub + "/orders-2026-11.csv", 10, "text/csv"}},
		{name: "ndjson", body: `{"fileName":"o.jsonl","size":5}`, wantStatus: 201, want: signedPut{"imports/" + sub + "/o.jsonl", 5, "application/x-ndjson"}},
		{name: "path", body: `{"fileName":"a/b.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "dot dot", body: `{"fileName":"..\\b.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "control character", body: `{"fileName":"a\u0000.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "right-to-left override", body: `{"fileName":"invoice\u202evsc.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "zero-width space", body: `{"fileName":"orders\u200b.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "type", body: `{"fileName":"orders.zip","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "empty", body: `{"fileName":"","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "too long", body: `{"fileName":"` + strings.Repeat("a", 201) + `.csv","size":10}`, wantStatus: 400, wantParam: "fileName"},
		{name: "no size", body: file(`"contentType":"text/csv"`), wantStatus: 400, wantParam: "size"},
		{name: "size 0", body: file(`"size":0`), wantStatus: 400, wantParam: "size"},
		{name: "negative size", body: file(`"size":-1`), wantStatus: 400, wantParam: "size"},
		{name: "over the maximum", body: file(`"size":4097`), wantStatus: 400, wantParam: "size"},
		{name: "size not a number", body: file(`"size":"10"`), wantStatus: 400},
		{name: "other content type", body: file(`"size":10,"contentType":"application/octet-stream"`), wantStatus: 400, wantParam: "contentType"},
		{name: "type of another format", body: file(`"size":10,"contentType":"application/x-ndjson"`), wantStatus: 400, wantParam: "contentType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"create-import-upload.json", &req)
			if tt.body != "" {
				req.Body = tt.body
			}
			signer := &fakeSigner{}
			resp, err := Upload{Uploads: signer, MaxSize: maxSize, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if tt.wantStatus != 201 {
				if len(signer.signed) != 0 {
					t.Errorf("signed %+v for a bad request; want nothing signed", signer.signed)
				}
				if tt.wantParam != "" {
					if p := lambdatest.Problem(t, resp); len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam {
						t.Errorf("body %s; want invalid-params naming %s", resp.Body, tt.wantParam)
					}
				}
				return
			}
			if len(signer.signed) != 1 || signer.signed[0] != tt.want {
				t.Errorf("signed %+v; want [%+v]", signer.signed, tt.want)
			}
			var grant struct {
				Method  string            `json:"method"`
				Headers map[string]string `json:"headers"`
				Size    int64             `json:"size"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &grant); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			want := map[string]string{"Content-Type": tt.want.contentType}
			if grant.Method != http.MethodPut || !maps.Equal(grant.Headers, want) || grant.Size != tt.want.size {
				t.Errorf("grant %+v; want a PUT of %d bytes with headers %v (no Host or Content-Length: the client sets those)", grant, tt.want.size, want)
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
