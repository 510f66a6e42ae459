package sources

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// call is one invocation a fakeInvoker saw.
type call struct {
	function string
	payload  []byte
	deadline time.Time // zero when ctx had none
}

// fakeInvoker records every invocation and answers with respond, or with an empty 200 response
// when respond is nil.
type fakeInvoker struct {
	respond func(ctx context.Context, function string, payload []byte) (lambdapool.Result, error)

	mu    sync.Mutex
	calls []call
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) (lambdapool.Result, error) {
	deadline, _ := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, call{function: function, payload: slices.Clone(payload), deadline: deadline})
	f.mu.Unlock()
	if f.respond == nil {
		return lambdapool.Result{Payload: []byte(`{"statusCode":200}`)}, nil
	}
	return f.respond(ctx, function, payload)
}

// Calls returns a copy of the invocations so far.
func (f *fakeInvoker) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// answer returns a respond func that always gives payload.
func answer(payload string) func(context.Context, string, []byte) (lambdapool.Result, error) {
	return func(context.Context, string, []byte) (lambdapool.Result, error) {
		return lambdapool.Result{Payload: []byte(payload)}, nil
	}
}

// fakeAuthorizer accepts the tokens in valid and records every token it is asked about.
type fakeAuthorizer struct {
	valid map[string]map[string]any

	mu     sync.Mutex
	tokens []string
}

func (f *fakeAuthorizer) Verify(token string) (map[string]any, error) {
	f.mu.Lock()
	f.tokens = append(f.tokens, token)
	f.mu.Unlock()
	claims, ok := f.valid[token]
	if !ok {
		return nil, errors.New("signature does not verify")
	}
	return claims, nil
}

func (f *fakeAuthorizer) Tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens)
}

// testNow is the fixed time of every request in these tests.
var testNow = time.Date(2025, 3, 12, 19, 3, 58, 123_000_000, time.UTC)

func newAPI(routes []Route, inv Invoker) *HTTPAPI {
	return &HTTPAPI{
		Routes:  routes,
		Invoker: inv,
		Log:     slog.New(slog.DiscardHandler),
		Region:  "eu-west-1",
		Now:     func() time.Time { return testNow },
	}
}

func serve(api *HTTPAPI, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	return rec
}

// decodeEvent decodes the payload format 2.0 request a function received.
func decodeEvent(t *testing.T, payload []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var event events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &event); err != nil {
		t.Fatalf("decode event %s: %v", payload, err)
	}
	return event
}

// wantGatewayError asserts that rec is API Gateway's own error answer.
func wantGatewayError(t *testing.T, rec *httptest.ResponseRecorder, status int, message string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status: got %d, want %d (body %s)", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: not JSON: %v", rec.Body, err)
	}
	if want := map[string]string{"message": message}; !reflect.DeepEqual(body, want) {
		t.Errorf("body: got %v, want %v", body, want)
	}
}

func TestRouteMatching(t *testing.T) {
	// The list is in an order where the first-listed candidate is never the right one, and
	// every case also runs against the reversed list: the match must not depend on order.
	routes := []Route{
		{Method: "GET", Path: "/jobs/{jobId}", Function: "getJob"},
		{Method: "GET", Path: "/jobs/latest", Function: "latestJob"},
		{Method: "GET", Path: "/jobs", Function: "listJobs"},
		{Method: "POST", Path: "/jobs", Function: "submitJob"},
		{Method: "GET", Path: "/jobs/{jobId}/events/{eventId}", Function: "getEvent"},
		{Method: "ANY", Path: "/{proxy+}", Function: "catchAll"},
		{Method: "ANY", Path: "/files/{proxy+}", Function: "files"},
		{Method: "ANY", Path: "/things", Function: "anyThing"},
		{Method: "GET", Path: "/things", Function: "getThing"},
	}
	reversed := slices.Clone(routes)
	slices.Reverse(reversed)

	tests := []struct {
		name         string
		method, path string
		wantFunction string // "" means 404
		wantRouteKey string
		wantParams   map[string]string
	}{
		{name: "literal path", method: "GET", path: "/jobs", wantFunction: "listJobs", wantRouteKey: "GET /jobs"},
		{name: "same path other method", method: "POST", path: "/jobs", wantFunction: "submitJob", wantRouteKey: "POST /jobs"},
		{name: "literal beats param", method: "GET", path: "/jobs/latest", wantFunction: "latestJob", wantRouteKey: "GET /jobs/latest"},
		{
			name: "param", method: "GET", path: "/jobs/42", wantFunction: "getJob", wantRouteKey: "GET /jobs/{jobId}",
			wantParams: map[string]string{"jobId": "42"},
		},
		{
			name: "two params", method: "GET", path: "/jobs/42/events/7", wantFunction: "getEvent",
			wantRouteKey: "GET /jobs/{jobId}/events/{eventId}", wantParams: map[string]string{"jobId": "42", "eventId": "7"},
		},
		{
			name: "greedy with ANY", method: "DELETE", path: "/files/a/b/c.txt", wantFunction: "files",
			wantRouteKey: "ANY /files/{proxy+}", wantParams: map[string]string{"proxy": "a/b/c.txt"},
		},
		{
			name: "longer greedy prefix beats shorter", method: "GET", path: "/files/x", wantFunction: "files",
			wantRouteKey: "ANY /files/{proxy+}", wantParams: map[string]string{"proxy": "x"},
		},
		{
			name: "param beats greedy", method: "GET", path: "/jobs/9", wantFunction: "getJob",
			wantRouteKey: "GET /jobs/{jobId}", wantParams: map[string]string{"jobId": "9"},
		},
		{
			name: "greedy catches the rest", method: "PATCH", path: "/jobs/9", wantFunction: "catchAll",
			wantRouteKey: "ANY /{proxy+}", wantParams: map[string]string{"proxy": "jobs/9"},
		},
		{name: "method beats ANY", method: "GET", path: "/things", wantFunction: "getThing", wantRouteKey: "GET /things"},
		{name: "ANY takes other methods", method: "PUT", path: "/things", wantFunction: "anyThing", wantRouteKey: "ANY /things"},
	}
	for _, order := range []struct {
		name   string
		routes []Route
	}{{"listed", routes}, {"reversed", reversed}} {
		for _, tt := range tests {
			t.Run(order.name+"/"+tt.name, func(t *testing.T) {
				inv := &fakeInvoker{}
				rec := serve(newAPI(order.routes, inv), httptest.NewRequest(tt.method, tt.path, nil))
				if rec.Code != http.StatusOK {
					t.Fatalf("status: got %d, want 200 (body %s)", rec.Code, rec.Body)
				}
				calls := inv.Calls()
				if len(calls) != 1 {
					t.Fatalf("invocations: got %d, want 1", len(calls))
				}
				if calls[0].function != tt.wantFunction {
					t.Errorf("function: got %q, want %q", calls[0].function, tt.wantFunction)
				}
				event := decodeEvent(t, calls[0].payload)
				if event.RouteKey != tt.wantRouteKey || event.RequestContext.RouteKey != tt.wantRouteKey {
					t.Errorf("routeKey: got %q and %q, want %q", event.RouteKey, event.RequestContext.RouteKey, tt.wantRouteKey)
				}
				if !reflect.DeepEqual(event.PathParameters, tt.wantParams) {
					t.Errorf("pathParameters: got %v, want %v", event.PathParameters, tt.wantParams)
				}
			})
		}
	}
}

func TestRouteNotFound(t *testing.T) {
	routes := []Route{
		{Method: "GET", Path: "/jobs", Function: "listJobs"},
		{Method: "GET", Path: "/jobs/{jobId}", Function: "getJob"},
		{Method: "GET", Path: "/jobs/{jobId}/runs", Function: "listRuns"},
		{Method: "ANY", Path: "/files/{proxy+}", Function: "files"},
	}
	tests := []struct {
		name         string
		method, path string
	}{
		{name: "method mismatch", method: "DELETE", path: "/jobs"},
		{name: "unknown path", method: "GET", path: "/nowhere"},
		{name: "too many segments", method: "GET", path: "/jobs/1/extra"},
		{name: "greedy needs a segment", method: "GET", path: "/files"},
		{name: "empty param", method: "GET", path: "/jobs//runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			rec := serve(newAPI(routes, inv), httptest.NewRequest(tt.method, tt.path, nil))
			wantGatewayError(t, rec, http.StatusNotFound, "Not Found")
			if n := len(inv.Calls()); n != 0 {
				t.Errorf("invocations: got %d, want 0", n)
			}
		})
	}
}

func TestRequestEvent(t *testing.T) {
	inv := &fakeInvoker{}
	api := newAPI([]Route{{Method: "POST", Path: "/jobs/{jobId}/runs", Function: "run"}}, inv)
	r := httptest.NewRequest("POST", "http://api.example.com/jobs/j%2D1/runs?q=1&q=2&name=a%20b", strings.NewReader(`{"n":1}`))
	r.RemoteAddr = "192.0.2.10:54321"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "test-agent/1.0")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	r.Header.Add("Cookie", "session=abc; theme=dark")
	r.Header.Add("Cookie", "lang=en")

	rec := serve(api, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (body %s)", rec.Code, rec.Body)
	}
	calls := inv.Calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	got := decodeEvent(t, calls[0].payload)

	checks := []struct {
		name      string
		got, want any
	}{
		{"version", got.Version, "2.0"},
		{"routeKey", got.RouteKey, "POST /jobs/{jobId}/runs"},
		{"rawPath", got.RawPath, "/jobs/j%2D1/runs"},
		{"rawQueryString", got.RawQueryString, "q=1&q=2&name=a%20b"},
		{"queryStringParameters", got.QueryStringParameters, map[string]string{"q": "1,2", "name": "a b"}},
		{"pathParameters", got.PathParameters, map[string]string{"jobId": "j-1"}},
		{"cookies", got.Cookies, []string{"session=abc", "theme=dark", "lang=en"}},
		{"headers", got.Headers, map[string]string{
			"content-type": "application/json",
			"user-agent":   "test-agent/1.0",
			"x-multi":      "a,b",
			"host":         "api.example.com",
		}},
		{"body", got.Body, `{"n":1}`},
		{"isBase64Encoded", got.IsBase64Encoded, false},
		{"requestContext.routeKey", got.RequestContext.RouteKey, "POST /jobs/{jobId}/runs"},
		{"requestContext.stage", got.RequestContext.Stage, "$default"},
		{"requestContext.domainName", got.RequestContext.DomainName, "api.example.com"},
		{"requestContext.domainPrefix", got.RequestContext.DomainPrefix, "api"},
		{"requestContext.time", got.RequestContext.Time, "12/Mar/2025:19:03:58 +0000"},
		{"requestContext.timeEpoch", got.RequestContext.TimeEpoch, testNow.UnixMilli()},
		{"requestContext.http.method", got.RequestContext.HTTP.Method, "POST"},
		{"requestContext.http.path", got.RequestContext.HTTP.Path, "/jobs/j-1/runs"},
		{"requestContext.http.protocol", got.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"requestContext.http.sourceIp", got.RequestContext.HTTP.SourceIP, "192.0.2.10"},
		{"requestContext.http.userAgent", got.RequestContext.HTTP.UserAgent, "test-agent/1.0"},
		{"requestContext.authorizer", got.RequestContext.Authorizer, (*events.APIGatewayV2HTTPRequestContextAuthorizerDescription)(nil)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if got.RequestContext.RequestID == "" {
		t.Errorf("requestContext.requestId: got empty, want an id")
	}
	if _, ok := got.Headers["cookie"]; ok {
		t.Errorf("headers: got a cookie header, want cookies only in the cookies field")
	}
}

func TestRequestEventWithoutQueryOrParams(t *testing.T) {
	inv := &fakeInvoker{}
	api := newAPI([]Route{{Method: "GET", Path: "/jobs", Function: "list"}}, inv)
	if rec := serve(api, httptest.NewRequest("GET", "/jobs", nil)); rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	calls := inv.Calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	// API Gateway leaves out what the request does not have, rather than sending empty values.
	var raw map[string]any
	if err := json.Unmarshal(calls[0].payload, &raw); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	for _, field := range []string{"queryStringParameters", "pathParameters", "cookies", "body"} {
		if v, ok := raw[field]; ok {
			t.Errorf("%s: got %v, want it left out", field, v)
		}
	}
}

func TestRequestBodyEncoding(t *testing.T) {
	binary := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe}
	tests := []struct {
		contentType string
		body        []byte
		wantBase64  bool
	}{
		{contentType: "", body: []byte("plain"), wantBase64: false},
		{contentType: "text/plain; charset=utf-8", body: []byte("héllo"), wantBase64: false},
		{contentType: "application/json", body: []byte(`{"a":1}`), wantBase64: false},
		{contentType: "application/problem+json", body: []byte(`{"a":1}`), wantBase64: false},
		{contentType: "application/x-www-form-urlencoded", body: []byte("a=1&b=2"), wantBase64: false},
		{contentType: "application/xml", body: []byte("<a/>"), wantBase64: false},
		{contentType: "application/octet-stream", body: binary, wantBase64: true},
		{contentType: "image/png", body: binary, wantBase64: true},
		{contentType: "multipart/form-data; boundary=x", body: []byte("--x--"), wantBase64: true},
		{contentType: "not a media type;;", body: []byte("x"), wantBase64: true},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			inv := &fakeInvoker{}
			api := newAPI([]Route{{Method: "POST", Path: "/upload", Function: "upload"}}, inv)
			r := httptest.NewRequest("POST", "/upload", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if rec := serve(api, r); rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (body %s)", rec.Code, rec.Body)
			}
			calls := inv.Calls()
			if len(calls) != 1 {
				t.Fatalf("invocations: got %d, want 1", len(calls))
			}
			event := decodeEvent(t, calls[0].payload)
			if event.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("isBase64Encoded: got %v, want %v", event.IsBase64Encoded, tt.wantBase64)
			}
			got := []byte(event.Body)
			if event.IsBase64Encoded {
				var err error
				if got, err = base64.StdEncoding.DecodeString(event.Body); err != nil {
					t.Fatalf("body %q: not base64: %v", event.Body, err)
				}
			}
			if !bytes.Equal(got, tt.body) {
				t.Errorf("body: got %q, want %q", got, tt.body)
			}
		})
	}
}

func TestPayloadLimit(t *testing.T) {
	tests := []struct {
		name        string
		size        int
		wantStatus  int
		wantInvoked bool
	}{
		{name: "at the limit", size: MaxPayload, wantStatus: http.StatusOK, wantInvoked: true},
		{name: "over the limit", size: MaxPayload + 1, wantStatus: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			api := newAPI([]Route{{Method: "POST", Path: "/upload", Function: "upload"}}, inv)
			r := httptest.NewRequest("POST", "/upload", bytes.NewReader(bytes.Repeat([]byte("a"), tt.size)))
			r.Header.Set("Content-Type", "text/plain")
			rec := serve(api, r)
			if tt.wantInvoked {
				if rec.Code != tt.wantStatus {
					t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
				}
			} else {
				wantGatewayError(t, rec, tt.wantStatus, "Request Entity Too Large")
			}
			if got := len(inv.Calls()) == 1; got != tt.wantInvoked {
				t.Errorf("invoked: got %v, want %v", got, tt.wantInvoked)
			}
		})
	}
}

func TestAuthorizer(t *testing.T) {
	auth := map[string]map[string]any{
		"good-token": {
			"sub":   "user-1",
			"exp":   json.Number("1741806238"), // what jwt.Verifier returns for numbers
			"iat":   float64(1741802638),       // what a plain json.Unmarshal returns
			"ratio": 0.5,
			"admin": true,
			"aud":   []any{"api", "web"},
			"nums":  []any{json.Number("1"), float64(2000000)},
			"empty": []any{},
		},
	}
	wantClaims := map[string]string{
		"sub":   "user-1",
		"exp":   "1741806238",
		"iat":   "1741802638",
		"ratio": "0.5",
		"admin": "true",
		"aud":   "[api web]",
		"nums":  "[1 2000000]",
		"empty": "[]",
	}
	tests := []struct {
		name          string
		path          string
		authorization string // "" sends no header
		wantStatus    int
		wantVerified  []string // tokens the authorizer of /private is asked about
		wantOther     []string // tokens the authorizer of /other is asked about
		wantClaims    map[string]string
	}{
		{name: "no token", path: "/private", wantStatus: http.StatusUnauthorized},
		{name: "bearer without token", path: "/private", authorization: "Bearer ", wantStatus: http.StatusUnauthorized},
		{name: "invalid token", path: "/private", authorization: "Bearer forged", wantStatus: http.StatusUnauthorized, wantVerified: []string{"forged"}},
		{name: "valid token", path: "/private", authorization: "Bearer good-token", wantStatus: http.StatusOK, wantVerified: []string{"good-token"}, wantClaims: wantClaims},
		{name: "valid token without Bearer prefix", path: "/private", authorization: "good-token", wantStatus: http.StatusOK, wantVerified: []string{"good-token"}, wantClaims: wantClaims},
		{name: "public route without token", path: "/public", wantStatus: http.StatusOK},
		{name: "public route ignores a bad token", path: "/public", authorization: "Bearer forged", wantStatus: http.StatusOK},
		// Routes of two APIs: each route asks its own API's authorizer only.
		{name: "another API's route with this API's token", path: "/other", authorization: "Bearer good-token", wantStatus: http.StatusUnauthorized, wantOther: []string{"good-token"}},
		{name: "another API's route with its own token", path: "/other", authorization: "Bearer other-token", wantStatus: http.StatusOK, wantOther: []string{"other-token"}, wantClaims: map[string]string{"sub": "user-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			authorizer := &fakeAuthorizer{valid: auth}
			other := &fakeAuthorizer{valid: map[string]map[string]any{"other-token": {"sub": "user-2"}}}
			api := newAPI([]Route{
				{Method: "GET", Path: "/private", Function: "private", Authorizer: authorizer},
				{Method: "GET", Path: "/public", Function: "public"},
				{Method: "GET", Path: "/other", Function: "other", Authorizer: other},
			}, inv)
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			rec := serve(api, r)

			if got := authorizer.Tokens(); !slices.Equal(got, tt.wantVerified) {
				t.Errorf("tokens verified: got %q, want %q", got, tt.wantVerified)
			}
			if got := other.Tokens(); !slices.Equal(got, tt.wantOther) {
				t.Errorf("tokens the other API verified: got %q, want %q", got, tt.wantOther)
			}
			calls := inv.Calls()
			if tt.wantStatus == http.StatusUnauthorized {
				wantGatewayError(t, rec, http.StatusUnauthorized, "Unauthorized")
				if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge", got)
				}
				if len(calls) != 0 {
					t.Errorf("invocations: got %d, want 0", len(calls))
				}
				return
			}
			if rec.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if len(calls) != 1 {
				t.Fatalf("invocations: got %d, want 1", len(calls))
			}
			event := decodeEvent(t, calls[0].payload)
			var gotClaims map[string]string
			if a := event.RequestContext.Authorizer; a != nil && a.JWT != nil {
				gotClaims = a.JWT.Claims
			}
			if !reflect.DeepEqual(gotClaims, tt.wantClaims) {
				t.Errorf("claims: got %v, want %v", gotClaims, tt.wantClaims)
			}
		})
	}
}

func TestClaimStrings(t *testing.T) {
	tests := []struct {
		name  string
		claim any
		want  string
	}{
		{name: "string", claim: "user-1", want: "user-1"},
		{name: "json.Number", claim: json.Number("1741806238"), want: "1741806238"},
		{name: "large float", claim: float64(1741806238), want: "1741806238"},
		{name: "fraction", claim: 1.25, want: "1.25"},
		{name: "bool", claim: false, want: "false"},
		{name: "list", claim: []any{"a", "b", "c"}, want: "[a b c]"},
		{name: "list of numbers", claim: []any{json.Number("7"), float64(3e9)}, want: "[7 3000000000]"},
		{name: "empty list", claim: []any{}, want: "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := claimStrings(map[string]any{"c": tt.claim})
			if want := map[string]string{"c": tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("claimStrings(%#v): got %v, want %v", tt.claim, got, want)
			}
		})
	}
}

func TestThrottledRoute(t *testing.T) {
	now := testNow
	inv := &fakeInvoker{}
	api := newAPI([]Route{
		{Method: "GET", Path: "/limited", Function: "limited", Throttle: NewThrottle(1, 2)},
		{Method: "GET", Path: "/free", Function: "free"},
	}, inv)
	api.Now = func() time.Time { return now }

	steps := []struct {
		advance    time.Duration
		path       string
		wantStatus int
	}{
		{path: "/limited", wantStatus: http.StatusOK},
		{path: "/limited", wantStatus: http.StatusOK},
		{path: "/limited", wantStatus: http.StatusTooManyRequests}, // burst of 2 spent
		{path: "/free", wantStatus: http.StatusOK},                 // the limit is per route
		{advance: 500 * time.Millisecond, path: "/limited", wantStatus: http.StatusTooManyRequests},
		{advance: 500 * time.Millisecond, path: "/limited", wantStatus: http.StatusOK}, // one token back after 1 s
		{path: "/limited", wantStatus: http.StatusTooManyRequests},
	}
	wantInvocations := 0
	for i, s := range steps {
		now = now.Add(s.advance)
		callsBefore := len(inv.Calls())
		rec := serve(api, httptest.NewRequest("GET", s.path, nil))
		if s.wantStatus == http.StatusTooManyRequests {
			wantGatewayError(t, rec, http.StatusTooManyRequests, "Too Many Requests")
		} else {
			wantInvocations++
			if rec.Code != s.wantStatus {
				t.Errorf("step %d %s: status got %d, want %d", i, s.path, rec.Code, s.wantStatus)
			}
		}
		if s.wantStatus == http.StatusTooManyRequests && len(inv.Calls()) != callsBefore {
			t.Errorf("step %d %s: throttled request invoked the function", i, s.path)
		}
	}
	if got := len(inv.Calls()); got != wantInvocations {
		t.Errorf("invocations: got %d, want %d", got, wantInvocations)
	}
}

func TestThrottleAllow(t *testing.T) {
	type step struct {
		after time.Duration // since the previous step
		want  bool
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{
			name: "burst then refill at rate", rate: 2, burst: 3,
			steps: []step{
				{0, true}, {0, true}, {0, true}, {0, false},
				{250 * time.Millisecond, false}, // half a token
				{250 * time.Millisecond, true},  // one whole token
				{0, false},
			},
		},
		{
			name: "refill is capped at burst", rate: 2, burst: 3,
			steps: []step{
				{0, true}, {0, true}, {0, true},
				{time.Hour, true}, {0, true}, {0, true}, {0, false},
			},
		},
		{
			name: "denied requests take no token", rate: 1, burst: 1,
			steps: []step{
				{0, true},
				{400 * time.Millisecond, false},
				{400 * time.Millisecond, false},
				{200 * time.Millisecond, true}, // 1 s since the last token was taken
			},
		},
		{
			name: "rate below one per second", rate: 0.5, burst: 1,
			steps: []step{{0, true}, {time.Second, false}, {time.Second, true}},
		},
		{
			name: "zero burst refuses everything", rate: 100, burst: 0,
			steps: []step{{0, false}, {time.Second, false}},
		},
		{
			name: "zero rate never refills", rate: 0, burst: 1,
			steps: []step{{0, true}, {time.Hour, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(tt.rate, tt.burst)
			now := testNow
			for i, s := range tt.steps {
				now = now.Add(s.after)
				if got := th.Allow(now); got != s.want {
					t.Errorf("step %d (+%v): Allow got %v, want %v", i, s.after, got, s.want)
				}
			}
		})
	}
}

func TestInvokeFailures(t *testing.T) {
	tests := []struct {
		name        string
		result      lambdapool.Result
		err         error
		wantStatus  int
		wantMessage string
	}{
		{
			name:       "function error",
			result:     lambdapool.Result{Payload: []byte(`{"errorType":"Runtime.ExitError","errorMessage":"boom"}`), Err: &lambdapool.FunctionError{Type: "Runtime.ExitError", Message: "boom"}},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "throttled",
			err:        fmt.Errorf("invoke submit: %w", lambdapool.ErrThrottled),
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "unknown function",
			err:        fmt.Errorf("invoke submit: %w", lambdapool.ErrUnknownFunction),
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "integration timeout",
			err:        fmt.Errorf("invoke submit: %w", context.DeadlineExceeded),
			wantStatus: http.StatusServiceUnavailable, wantMessage: "Service Unavailable",
		},
		{
			name:       "status code of the wrong type",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":"200","body":"x"}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "body of the wrong type",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":200,"body":{"a":1}}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "body that is not base64",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":200,"isBase64Encoded":true,"headers":{"x-leak":"1"},"body":"%%%"}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "status code zero",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":0,"headers":{"x-leak":"1"},"body":"x"}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "null status code",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":null,"body":"x"}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
		{
			name:       "status code out of range",
			result:     lambdapool.Result{Payload: []byte(`{"statusCode":1000,"body":"x"}`)},
			wantStatus: http.StatusInternalServerError, wantMessage: "Internal Server Error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
				return tt.result, tt.err
			}}
			api := newAPI([]Route{{Method: "POST", Path: "/jobs", Function: "submit"}}, inv)
			rec := serve(api, httptest.NewRequest("POST", "/jobs", strings.NewReader("{}")))
			wantGatewayError(t, rec, tt.wantStatus, tt.wantMessage)
			if got := rec.Header().Get("X-Leak"); got != "" {
				t.Errorf("X-Leak header: got %q, want the function's headers not sent with a gateway error", got)
			}
			if n := len(inv.Calls()); n != 1 {
				t.Errorf("invocations: got %d, want 1", n)
			}
		})
	}
}

func TestInvokeHasIntegrationTimeout(t *testing.T) {
	inv := &fakeInvoker{}
	api := newAPI([]Route{{Method: "GET", Path: "/jobs", Function: "list"}}, inv)
	serve(api, httptest.NewRequest("GET", "/jobs", nil))
	calls := inv.Calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	if calls[0].deadline.IsZero() {
		t.Fatalf("invoke context: got no deadline, want the %v integration timeout", IntegrationTimeout)
	}
	if left := time.Until(calls[0].deadline); left > IntegrationTimeout {
		t.Errorf("invoke deadline: got %v away, want at most %v", left, IntegrationTimeout)
	}
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name        string
		payload     string
		wantStatus  int
		wantHeaders map[string][]string // canonical names; only these are checked
		wantBody    []byte
	}{
		{
			name:        "object without statusCode is a 200 JSON body",
			payload:     `{"jobId":"j-1","state":"queued"}`,
			wantStatus:  http.StatusOK,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    []byte(`{"jobId":"j-1","state":"queued"}`),
		},
		{
			name:        "string",
			payload:     `"hello"`,
			wantStatus:  http.StatusOK,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    []byte(`"hello"`),
		},
		{
			name:        "array",
			payload:     `[1,2]`,
			wantStatus:  http.StatusOK,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    []byte(`[1,2]`),
		},
		{
			name: "full response",
			payload: `{"statusCode":201,
				"headers":{"content-type":"application/json","location":"/jobs/j-1"},
				"multiValueHeaders":{"x-multi":["a","b"]},
				"cookies":["session=abc; Path=/; HttpOnly","theme=dark"],
				"body":"{\"jobId\":\"j-1\"}"}`,
			wantStatus: http.StatusCreated,
			wantHeaders: map[string][]string{
				"Content-Type": {"application/json"},
				"Location":     {"/jobs/j-1"},
				"X-Multi":      {"a", "b"},
				"Set-Cookie":   {"session=abc; Path=/; HttpOnly", "theme=dark"},
			},
			wantBody: []byte(`{"jobId":"j-1"}`),
		},
		{
			name:        "base64 body",
			payload:     `{"statusCode":200,"headers":{"content-type":"image/png"},"isBase64Encoded":true,"body":"iVBORwD//g=="}`,
			wantStatus:  http.StatusOK,
			wantHeaders: map[string][]string{"Content-Type": {"image/png"}},
			wantBody:    []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe},
		},
		{
			name:       "no body",
			payload:    `{"statusCode":204}`,
			wantStatus: http.StatusNoContent,
		},
		{
			name:        "body on a 204 is dropped",
			payload:     `{"statusCode":204,"headers":{"x-kept":"1"},"body":"ignored"}`,
			wantStatus:  http.StatusNoContent,
			wantHeaders: map[string][]string{"X-Kept": {"1"}},
		},
		{
			name:        "error status from the function",
			payload:     `{"statusCode":409,"headers":{"content-type":"application/problem+json"},"body":"{\"title\":\"conflict\"}"}`,
			wantStatus:  http.StatusConflict,
			wantHeaders: map[string][]string{"Content-Type": {"application/problem+json"}},
			wantBody:    []byte(`{"title":"conflict"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: answer(tt.payload)}
			api := newAPI([]Route{{Method: "GET", Path: "/x", Function: "x"}}, inv)
			rec := serve(api, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			for name, want := range tt.wantHeaders {
				if got := rec.Header().Values(name); !slices.Equal(got, want) {
					t.Errorf("header %s: got %q, want %q", name, got, want)
				}
			}
			if got := rec.Body.Bytes(); !bytes.Equal(got, tt.wantBody) {
				t.Errorf("body: got %q, want %q", got, tt.wantBody)
			}
		})
	}
}

// TestServeOverHTTP runs one request through a real server, so that what reaches a client
// (not only what the handler wrote) is checked, cookies included.
func TestServeOverHTTP(t *testing.T) {
	inv := &fakeInvoker{respond: answer(`{"statusCode":200,"cookies":["a=1","b=2"],"body":"ok"}`)}
	srv := httptest.NewServer(newAPI([]Route{{Method: "GET", Path: "/x", Function: "x"}}, inv))
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/x", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.AddCookie(&http.Cookie{Name: "session", Value: "abc"})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /x: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
	var got []string
	for _, c := range resp.Cookies() {
		got = append(got, c.Name+"="+c.Value)
	}
	if want := []string{"a=1", "b=2"}; !slices.Equal(got, want) {
		t.Errorf("cookies set: got %q, want %q", got, want)
	}
	calls := inv.Calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	event := decodeEvent(t, calls[0].payload)
	if want := []string{"session=abc"}; !slices.Equal(event.Cookies, want) {
		t.Errorf("event cookies: got %q, want %q", event.Cookies, want)
	}
	if event.RequestContext.HTTP.SourceIP != "127.0.0.1" {
		t.Errorf("sourceIp: got %q, want 127.0.0.1", event.RequestContext.HTTP.SourceIP)
	}
}
