package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/invalid"
	"github.com/go-serverless/reference/shared/lambdatest"
)

const (
	sub      = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"
	uploadID = "9f86d081884c7d659a2feaa0c55ad015"
)

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

type fakeCreator struct {
	owner string
	in    uploads.Request
	err   error
}

func (f *fakeCreator) Create(_ context.Context, owner string, in uploads.Request) (uploads.Upload, uploads.SignedRequest, error) {
	f.owner, f.in = owner, in
	if f.err != nil {
		return uploads.Upload{}, uploads.SignedRequest{}, f.err
	}
	return uploads.Upload{ID: uploadID}, uploads.SignedRequest{
		Method: "PUT", URL: "https://b.s3.amazonaws.com/k?X-Amz-Signature=s",
		Headers: map[string]string{"Content-Type": in.ContentType}, Expires: time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC),
	}, nil
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("decode %q: %v", resp.Body, err)
	}
	return m
}

func TestCreateAnswersTheSignedRequest(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"create-upload.json", &req)
	f := &fakeCreator{}
	resp, err := Create{Uploads: f, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Headers["Location"] != "/uploads/"+uploadID {
		t.Fatalf("response = %d %v; want 201 with Location", resp.StatusCode, resp.Headers)
	}
	body := decode(t, resp)
	if body["uploadId"] != uploadID || body["method"] != "PUT" || body["url"] == "" || body["expiresAt"] != "2026-11-30T10:05:00Z" {
		t.Errorf("body = %v; want uploadId, method, url, expiresAt", body)
	}
	if headers, _ := body["headers"].(map[string]any); headers["Content-Type"] != "image/png" {
		t.Errorf("headers = %v; want the signed headers", body["headers"])
	}
	want := uploads.Request{FileName: "holiday photo.png", ContentType: "image/png", Size: 20971520, SHA256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}
	if f.owner != sub || f.in != want {
		t.Errorf("Create(%q, %+v); want (%q, %+v)", f.owner, f.in, sub, want)
	}
}

func TestCreateRefuses(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		err        error
		wantStatus int
		wantParam  string
	}{
		{name: "invalid declaration", err: &invalid.Param{Name: "fileName", Reason: "must be a file name without a directory"}, wantStatus: 400, wantParam: "fileName"},
		{name: "unknown field", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"fileName":"a.png","key":"uploads/x"}` }, wantStatus: 400, wantParam: "key"},
		{name: "size as a string", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"size":"big"}` }, wantStatus: 400, wantParam: "size"},
		{name: "not JSON", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "text/plain" }, wantStatus: 415},
		{name: "body too large", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = `{"fileName":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
		}, wantStatus: 413},
		{name: "no subject", edit: func(r *events.APIGatewayV2HTTPRequest) { delete(r.RequestContext.Authorizer.JWT.Claims, "sub") }, wantStatus: 401},
		// "uploads/{sub}/..." keys: a subject with a slash or of 2,000 characters signed an upload S3 never accepts.
		{name: "subject with a slash", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer.JWT.Claims["sub"] = "a/b" }, wantStatus: 403},
		{name: "subject of 2,000 characters", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.RequestContext.Authorizer.JWT.Claims["sub"] = strings.Repeat("s", 2000)
		}, wantStatus: 403},
		{name: "name in another case", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"fileName":"a.png","Size":1}` }, wantStatus: 400, wantParam: "Size"},
		{name: "name twice", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"size":1,"size":2}` }, wantStatus: 400, wantParam: "size"},
		{name: "size beyond int64", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"size":9223372036854775808}` }, wantStatus: 400, wantParam: "size"},
		{name: "null body", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `null` }, wantStatus: 400},
		{name: "store down", err: errors.New("dynamodb: connection refused to 10.0.0.1"), wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"create-upload.json", &req)
			if tt.edit != nil {
				tt.edit(&req)
			}
			resp, _ := Create{Uploads: &fakeCreator{err: tt.err}, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			p := lambdatest.Problem(t, resp)
			if tt.wantParam != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam) {
				t.Errorf("invalid-params = %+v; want %s named", p.InvalidParams, tt.wantParam)
			}
			if strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("body %s echoes an internal error", resp.Body)
			}
		})
	}
}

type fakeReader struct {
	upload uploads.Upload
	err    error
	owner  string
}

func (f *fakeReader) Get(_ context.Context, owner, id string) (uploads.Upload, error) {
	f.owner = owner
	return f.upload, f.err
}

func (f *fakeReader) Download(_ context.Context, owner, id string) (uploads.SignedRequest, error) {
	f.owner = owner
	return uploads.SignedRequest{Method: "GET", URL: "https://b.s3.amazonaws.com/k?sig", Expires: time.Date(2026, 11, 30, 10, 1, 0, 0, time.UTC)}, f.err
}

func TestGetAndDownload(t *testing.T) {
	verified := time.Date(2026, 11, 30, 10, 0, 7, 0, time.UTC)
	rejected := uploads.Upload{ID: uploadID, Status: uploads.StatusRejected, Reason: "content does not look like image/png", VerifiedAt: &verified}
	tests := []struct {
		name       string
		fixture    string
		id         string // replaces the fixture's when set
		handle     func(UploadReader, events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse
		reader     *fakeReader
		wantStatus int
		wantBody   string
		// wantRetryAfter is the Retry-After header the answer must carry ("" for none).
		wantRetryAfter string
	}{
		{name: "status", fixture: "get-upload.json", handle: get, reader: &fakeReader{upload: rejected}, wantStatus: 200, wantBody: `"reason":"content does not look like image/png"`},
		{name: "status of another user's upload", fixture: "get-upload.json", handle: get, reader: &fakeReader{err: uploads.ErrNotFound}, wantStatus: 404},
		{name: "download", fixture: "download-upload.json", handle: downloadHandler, reader: &fakeReader{}, wantStatus: 200, wantBody: `"url":"https://b.s3.amazonaws.com/k?sig"`},
		{name: "download of another user's upload", fixture: "download-upload.json", handle: downloadHandler, reader: &fakeReader{err: uploads.ErrNotFound}, wantStatus: 404},
		{name: "download once REJECTED", fixture: "download-upload.json", handle: downloadHandler, reader: &fakeReader{err: uploads.ErrNotAvailable}, wantStatus: 409},
		// Verification takes seconds: the client is told when to ask again.
		{name: "download while PENDING", fixture: "download-upload.json", handle: downloadHandler, reader: &fakeReader{err: uploads.ErrNotVerifiedYet}, wantStatus: 409, wantBody: "Upload not verified yet", wantRetryAfter: "2"},
		// An id no upload can have is not looked up: DynamoDB would refuse a 3,000-byte key with a 500.
		{name: "status, id of 3,000 characters", fixture: "get-upload.json", id: strings.Repeat("a", 3000), handle: get, reader: &fakeReader{err: errors.New("ValidationException")}, wantStatus: 404},
		{name: "download, id of 3,000 characters", fixture: "download-upload.json", id: strings.Repeat("a", 3000), handle: downloadHandler, reader: &fakeReader{err: errors.New("ValidationException")}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+tt.fixture, &req)
			if tt.id != "" {
				req.PathParameters["uploadId"] = tt.id
			}
			resp := tt.handle(tt.reader, req)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Fatalf("response = %d %s; want %d with %s", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantBody)
			}
			if got := resp.Headers["Retry-After"]; got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tt.wantRetryAfter)
			}
			if tt.id != "" {
				if tt.reader.owner != "" {
					t.Errorf("the store was asked about an id no upload has")
				}
				return
			}
			if tt.reader.owner != sub {
				t.Errorf("asked for owner %q; want the token's sub", tt.reader.owner)
			}
		})
	}
}

func get(r UploadReader, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	resp, _ := Get{Uploads: r, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	return resp
}

func downloadHandler(r UploadReader, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	resp, _ := Download{Uploads: r, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
	return resp
}

type fakeVerifier struct {
	keys []string
	fail map[string]bool
}

func (f *fakeVerifier) Verify(_ context.Context, key string) (uploads.Outcome, error) {
	f.keys = append(f.keys, key)
	if f.fail[key] {
		return "", errors.New("s3: slow down")
	}
	return uploads.OutcomeAvailable, nil
}

func TestVerifyHandler(t *testing.T) {
	var event events.S3Event
	lambdatest.Event(t, testdata+"verify-upload.json", &event)
	key := "uploads/" + sub + "/" + uploadID + "/holiday_photo.png"

	other := event.Records[0]
	other.EventName = "ObjectRemoved:Delete"
	encoded := event.Records[0]
	encoded.S3.Object.Key = "uploads/a/" + uploadID + "/my+photo%281%29.png"
	event.Records = append(event.Records, other, encoded)

	v := &fakeVerifier{}
	var buckets []string
	h := Verify{ForBucket: func(b string) ObjectVerifier { buckets = append(buckets, b); return v }, Log: lambdatest.QuietLogger()}
	if err := h.Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	want := []string{key, "uploads/a/" + uploadID + "/my photo(1).png"}
	if strings.Join(v.keys, "|") != strings.Join(want, "|") {
		t.Errorf("verified %q; want %q (ObjectCreated only, keys URL-decoded)", v.keys, want)
	}
	if len(buckets) != 2 || buckets[0] != "go-serverless-dev-uploadsbucket-1q2w3e4r5t6y" {
		t.Errorf("buckets = %v; want the record's bucket", buckets)
	}

	// One record failing fails the event (Lambda retries it); the others were still attempted.
	v = &fakeVerifier{fail: map[string]bool{key: true}}
	if err := h.Handle(context.Background(), event); err == nil || len(v.keys) != 2 {
		t.Errorf("Handle = %v after %d verifications; want an error after trying both", err, len(v.keys))
	}
}

type fakeLister struct {
	list  []uploads.Upload
	err   error
	owner string
	limit int
}

func (f *fakeLister) ListByOwner(_ context.Context, owner string, limit int) ([]uploads.Upload, error) {
	f.owner, f.limit = owner, limit
	return f.list, f.err
}

func TestList(t *testing.T) {
	created := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	two := []uploads.Upload{
		{ID: uploadID, Owner: "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b", FileName: "b.png", ContentType: "image/png", Size: 3, Status: uploads.StatusRejected, Reason: "content does not look like image/png", CreatedAt: created, Key: "uploads/x/y/b.png", SHA256: "c2hh"},
		{ID: "0123456789abcdef0123456789abcdef", FileName: "a.pdf", ContentType: "application/pdf", Size: 9, Status: uploads.StatusAvailable, CreatedAt: created.Add(-time.Minute)},
	}
	tests := []struct {
		name       string
		query      map[string]string
		lister     *fakeLister
		wantStatus int
		wantBody   []string
		notInBody  []string
	}{
		{name: "two, newest first", lister: &fakeLister{list: two}, wantStatus: 200,
			wantBody: []string{`{"uploads":[{"uploadId":"9f86d081884c7d659a2feaa0c55ad015","status":"REJECTED","fileName":"b.png"`, `"reason":"content does not look like image/png"`, `"fileName":"a.pdf"`},
			// The object key and checksum are the service's business, not the list's.
			notInBody: []string{"uploads/x/y", "c2hh", `"owner"`}},
		{name: "none", lister: &fakeLister{}, wantStatus: 200, wantBody: []string{`{"uploads":[]}`}},
		{name: "a query parameter", query: map[string]string{"limit": "5"}, lister: &fakeLister{}, wantStatus: 400, wantBody: []string{`"name":"limit"`}},
		{name: "store down", lister: &fakeLister{err: errors.New("dynamodb: connection refused to 10.0.0.1")}, wantStatus: 500, notInBody: []string{"10.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"list-uploads.json", &req)
			req.QueryStringParameters = tt.query
			resp, err := List{Uploads: tt.lister, Log: lambdatest.QuietLogger()}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(resp.Body, want) {
					t.Errorf("body %s; want it to contain %s", resp.Body, want)
				}
			}
			for _, not := range tt.notInBody {
				if strings.Contains(resp.Body, not) {
					t.Errorf("body %s; want no %s", resp.Body, not)
				}
			}
			if tt.wantStatus == 200 && (tt.lister.owner != "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b" || tt.lister.limit != uploads.RecentLimit) {
				t.Errorf("listed %q's %d; want the caller's (the token's sub) %d most recent", tt.lister.owner, tt.lister.limit, uploads.RecentLimit)
			}
		})
	}
}
