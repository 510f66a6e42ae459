package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/logging"
)

var withID = correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc"})

func decodeBody(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("decode body %q: %v", resp.Body, err)
	}
	return m
}

func TestJSON(t *testing.T) {
	resp := JSON(withID, slog.New(slog.DiscardHandler), http.StatusAccepted, map[string]string{"jobId": "j1"})
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
	if got := resp.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := resp.Headers[correlation.Header]; got != "abc" {
		t.Errorf("%s = %q, want abc", correlation.Header, got)
	}
	if got, want := resp.Body, `{"jobId":"j1"}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}

	resp = WithHeader(resp, "Location", "/jobs/j1")
	if got := resp.Headers["Location"]; got != "/jobs/j1" {
		t.Errorf("Location = %q, want /jobs/j1", got)
	}
	if got := resp.Headers[correlation.Header]; got != "abc" {
		t.Errorf("WithHeader dropped %s, got %q", correlation.Header, got)
	}
}

func TestJSONWithoutCorrelation(t *testing.T) {
	resp := JSON(context.Background(), slog.New(slog.DiscardHandler), http.StatusOK, struct{}{})
	if _, ok := resp.Headers[correlation.Header]; ok {
		t.Errorf("headers = %v, want no %s", resp.Headers, correlation.Header)
	}
}

func TestJSONUnencodable(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(logging.NewHandler(slog.NewJSONHandler(&logs, nil), slog.LevelInfo))
	resp := JSON(withID, log, http.StatusOK, map[string]float64{"ratio": math.NaN()})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	if got := resp.Headers["Content-Type"]; got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	if strings.Contains(resp.Body, "NaN") {
		t.Errorf("body %s echoes the encoding error", resp.Body)
	}
	// The 500 is logged once, with the correlation ID, so the caller's x-correlation-id finds why.
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v; want one JSON line", logs.String(), err)
	}
	if line["level"] != "ERROR" || line["correlationId"] != "abc" || !strings.Contains(fmt.Sprint(line["error"]), "NaN") {
		t.Errorf("log = %v; want an ERROR naming the encoding error, with correlationId abc", line)
	}
}

func TestProblemResponse(t *testing.T) {
	resp := Problem{Status: http.StatusNotFound, Detail: "job not found"}.Response(withID)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
	if got := resp.Headers["Content-Type"]; got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	if got := resp.Headers[correlation.Header]; got != "abc" {
		t.Errorf("%s = %q, want abc", correlation.Header, got)
	}
	want := `{"type":"about:blank","title":"Not Found","status":404,"detail":"job not found"}`
	if resp.Body != want {
		t.Errorf("body = %s, want %s", resp.Body, want)
	}
}

func TestWithHeaderDoesNotAlias(t *testing.T) {
	a := JSON(withID, slog.New(slog.DiscardHandler), http.StatusOK, 1)
	b := WithHeader(a, "Retry-After", "5")
	if _, ok := a.Headers["Retry-After"]; ok {
		t.Error("WithHeader changed the original response's headers")
	}
	if b.Headers["Retry-After"] != "5" {
		t.Errorf("Retry-After = %q, want 5", b.Headers["Retry-After"])
	}
}

type createJob struct {
	Kind     string    `json:"kind"`
	Priority int       `json:"priority"`
	Due      time.Time `json:"due"`
	Options  struct {
		Retries int `json:"retries"`
	} `json:"options"`
}

func jsonRequest(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Headers: map[string]string{"content-type": "application/json; charset=utf-8"},
		Body:    body,
	}
}

func TestDecodeJSON(t *testing.T) {
	base64Req := jsonRequest(base64.StdEncoding.EncodeToString([]byte(`{"kind":"resize"}`)))
	base64Req.IsBase64Encoded = true
	badBase64 := jsonRequest("%%%")
	badBase64.IsBase64Encoded = true
	noType := jsonRequest(`{"kind":"resize"}`)
	noType.Headers = nil
	textType := jsonRequest(`{"kind":"resize"}`)
	textType.Headers = map[string]string{"Content-Type": "text/plain"}
	utf16 := jsonRequest(`{"kind":"resize"}`)
	utf16.Headers = map[string]string{"Content-Type": "application/json; charset=utf-16"}
	utf8Type := jsonRequest(`{"kind":"resize"}`)
	utf8Type.Headers = map[string]string{"Content-Type": "application/json; charset=UTF-8"}

	tests := []struct {
		name       string
		req        events.APIGatewayV2HTTPRequest
		wantStatus int // 0 means success
		wantParam  string
	}{
		{"valid", jsonRequest(`{"kind":"resize","priority":2,"options":{"retries":3}}`), 0, ""},
		{"base64", base64Req, 0, ""},
		{"invalid base64", badBase64, 400, ""},
		{"no content type", noType, 415, ""},
		{"wrong content type", textType, 415, ""},
		{"charset other than UTF-8", utf16, 415, ""},
		{"charset UTF-8", utf8Type, 0, ""},
		{"too large", jsonRequest(`{"kind":"` + strings.Repeat("x", 100) + `"}`), 413, ""},
		{"empty", jsonRequest(""), 400, ""},
		{"blank", jsonRequest("  \n"), 400, ""},
		{"malformed", jsonRequest(`{"kind" "resize"}`), 400, ""},
		{"truncated", jsonRequest(`{"kind":`), 400, ""},
		{"trailing data", jsonRequest(`{"kind":"resize"} {}`), 400, ""},
		{"trailing garbage", jsonRequest(`{"kind":"resize"} x`), 400, ""},
		{"trailing whitespace", jsonRequest("{\"kind\":\"resize\"}\n "), 0, ""},
		{"unknown field", jsonRequest(`{"kind":"resize","x":1}`), 400, "x"},
		{"nested unknown field", jsonRequest(`{"options":{"retires":1}}`), 400, "retires"},
		{"wrong type", jsonRequest(`{"priority":"high"}`), 400, "priority"},
		{"nested wrong type", jsonRequest(`{"options":{"retries":1.5}}`), 400, "options.retries"},
		{"body an array", jsonRequest(`[1]`), 400, ""},
		{"body null", jsonRequest(`null`), 400, ""},
		{"body a string", jsonRequest(`"resize"`), 400, ""},
		{"field UnmarshalJSON fails", jsonRequest(`{"due":"tomorrow"}`), 400, "due"},
		// JSON v2 semantics: names match exactly, once.
		{"name in another case", jsonRequest(`{"KIND":"resize"}`), 400, "KIND"},
		{"exact and other case", jsonRequest(`{"kind":"resize","Kind":"paint"}`), 400, "Kind"},
		{"duplicate name", jsonRequest(`{"kind":"resize","kind":"paint"}`), 400, "kind"},
		{"nested duplicate name", jsonRequest(`{"options":{"retries":1,"retries":2}}`), 400, "options.retries"},
		{"integer overflow", jsonRequest(`{"priority":9223372036854775808}`), 400, "priority"},
		{"exponent for an integer", jsonRequest(`{"priority":1e3}`), 400, "priority"},
		{"invalid UTF-8", jsonRequest("{\"kind\":\"\xff\"}"), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got createJob
			err := DecodeJSON(tt.req, &got, 64)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON() = %v, want nil", err)
				}
				if got.Kind != "resize" {
					t.Errorf("Kind = %q, want resize", got.Kind)
				}
				return
			}
			p, ok := errors.AsType[*Problem](err)
			if !ok {
				t.Fatalf("DecodeJSON() = %v, want a *Problem", err)
			}
			if p.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d (%v)", p.Status, tt.wantStatus, p)
			}
			var gotParam string
			if len(p.InvalidParams) > 0 {
				gotParam = p.InvalidParams[0].Name
			}
			if gotParam != tt.wantParam {
				t.Errorf("invalid param = %q, want %q (%+v)", gotParam, tt.wantParam, p.InvalidParams)
			}
		})
	}
}

func TestDecodeJSONReasons(t *testing.T) {
	type batch struct {
		Items []struct {
			ID         string `json:"id"`
			DurationMS int32  `json:"durationMs"`
		} `json:"items"`
	}
	tests := []struct {
		body string
		want InvalidParam
	}{
		{`{"items":[{"id":"a"},{"id":7}]}`, InvalidParam{Name: "items[1].id", Reason: "must be a string, not a number"}},
		{`{"items":{"id":"a"}}`, InvalidParam{Name: "items", Reason: "must be an array, not an object"}},
		{`{"items":[{"durationMs":2147483648}]}`, InvalidParam{Name: "items[0].durationMs", Reason: "must be an integer from -2147483648 to 2147483647"}},
		{`{"items":[{"durationMs":1.5}]}`, InvalidParam{Name: "items[0].durationMs", Reason: "must be an integer, without a fraction or an exponent"}},
		{`{"items":[{"durationMs":true}]}`, InvalidParam{Name: "items[0].durationMs", Reason: "must be an integer, not a boolean"}},
		{`{"items":[{"id":"a","id":"b"}]}`, InvalidParam{Name: "items[0].id", Reason: "appears more than once"}},
		{`{"items":[{"ID":"a"}]}`, InvalidParam{Name: "ID", Reason: "unknown field"}},
	}
	for _, tt := range tests {
		var v batch
		err := DecodeJSON(jsonRequest(tt.body), &v, 1024)
		p, _ := errors.AsType[*Problem](err)
		if p == nil || p.Status != http.StatusBadRequest || !reflect.DeepEqual(p.InvalidParams, []InvalidParam{tt.want}) {
			t.Errorf("DecodeJSON(%s) = %+v, want 400 naming %+v", tt.body, p, tt.want)
		}
	}
}

// TestDecodeJSONMatchesNamesExactly is the hostile case: encoding/json matches names without
// regard to case and lets the last duplicate win, so {"amount":1,"Amount":1000} moved 1000.
func TestDecodeJSONMatchesNamesExactly(t *testing.T) {
	type move struct {
		Amount *int64 `json:"amount"`
	}
	for _, body := range []string{`{"amount":1,"Amount":1000}`, `{"AMOUNT":7}`, `{"amount":1,"amount":1000}`} {
		var v move
		err := DecodeJSON(jsonRequest(body), &v, 1024)
		p, ok := errors.AsType[*Problem](err)
		if !ok || p.Status != http.StatusBadRequest || len(p.InvalidParams) != 1 {
			t.Errorf("DecodeJSON(%s) = %v (amount %v), want a 400 naming the field", body, err, v.Amount)
		}
	}
}

func TestDecodeJSONCallerBug(t *testing.T) {
	var v createJob
	err := DecodeJSON(jsonRequest(`{}`), v, 1024) // not a pointer
	if err == nil {
		t.Fatal("DecodeJSON(non-pointer) = nil, want an error")
	}
	if _, ok := errors.AsType[*Problem](err); ok {
		t.Errorf("DecodeJSON(non-pointer) = problem %v, want an internal error", err)
	}
	if err := DecodeJSON(jsonRequest(`{}`), (*createJob)(nil), 1024); err == nil {
		t.Error("DecodeJSON(nil pointer) = nil, want an error")
	}
}

var (
	errNotFound     = errors.New("job not found")
	errInsufficient = errors.New("insufficient funds")
)

func TestErrorResponse(t *testing.T) {
	rules := []ErrorRule{
		{Err: errNotFound, Status: http.StatusNotFound},
		{Err: errInsufficient, Status: http.StatusConflict, Title: "Insufficient funds"},
	}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantTitle  string
		wantDetail any
		wantLogged bool
	}{
		{"problem passes through", NewProblem(http.StatusUnauthorized, "no subject"), 401, "Unauthorized", "no subject", false},
		{"wrapped problem", fmt.Errorf("read body: %w", NewProblem(http.StatusBadRequest, "empty")), 400, "Bad Request", "empty", false},
		{"rule with default title", fmt.Errorf("get job j1 from table jobs-prod: %w", errNotFound), 404, "Not Found", "job not found", false},
		{"rule with title", fmt.Errorf("debit: %w", errInsufficient), 409, "Insufficient funds", "insufficient funds", false},
		{"internal", errors.New("dial tcp 10.0.0.1:443: i/o timeout"), 500, "Internal Server Error", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(logging.NewHandler(slog.NewJSONHandler(&logs, nil), slog.LevelInfo))

			resp := ErrorResponse(withID, log, tt.err, rules...)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Headers[correlation.Header]; got != "abc" {
				t.Errorf("%s = %q, want abc", correlation.Header, got)
			}
			body := decodeBody(t, resp)
			if body["title"] != tt.wantTitle || body["detail"] != tt.wantDetail {
				t.Errorf("body = %v, want title %v, detail %v", body, tt.wantTitle, tt.wantDetail)
			}
			if strings.Contains(resp.Body, "jobs-prod") || strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("body %s leaks an internal error", resp.Body)
			}

			if got := logs.Len() > 0; got != tt.wantLogged {
				t.Fatalf("logged = %v, want %v: %s", got, tt.wantLogged, logs.String())
			}
			if tt.wantLogged {
				if n := strings.Count(strings.TrimSpace(logs.String()), "\n") + 1; n != 1 {
					t.Errorf("logged %d lines, want 1", n)
				}
				var line map[string]any
				if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
					t.Fatal(err)
				}
				if line["level"] != "ERROR" || line["error"] != tt.err.Error() || line["correlationId"] != "abc" {
					t.Errorf("log = %v, want ERROR with the error and correlationId abc", line)
				}
			}
		})
	}
}

func withSubject(sub string) events.APIGatewayV2HTTPRequest {
	var req events.APIGatewayV2HTTPRequest
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": sub}},
	}
	return req
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name       string
		req        events.APIGatewayV2HTTPRequest
		wantStatus int // 0 means accepted
	}{
		{"Cognito UUID", withSubject("5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"), 0},
		{"plain name", withSubject("alice"), 0},
		{"base64url", withSubject("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"), 0},
		{"longest allowed", withSubject(strings.Repeat("s", MaxSubjectLength)), 0},
		{"no authorizer", events.APIGatewayV2HTTPRequest{}, 401},
		{"empty sub", withSubject(""), 401},
		// Inside "imports/{sub}/" or "submit/{sub}/{key}", user "a/b" and user "a" with key "b/k1" collide.
		{"slash", withSubject("a/b"), 403},
		{"too long", withSubject(strings.Repeat("s", MaxSubjectLength+1)), 403},
		{"2,000 characters", withSubject(strings.Repeat("s", 2000)), 403},
		{"dot dot", withSubject(".."), 403},
		{"leading dot", withSubject(".alice"), 403},
		{"NUL", withSubject("alice\x00"), 403},
		{"newline", withSubject("alice\nbob"), 403},
		{"space", withSubject("alice smith"), 403},
		{"pipe", withSubject("auth0|alice"), 403},
		{"non-ASCII", withSubject("zoë"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Subject(tt.req)
			if tt.wantStatus == 0 {
				if want := tt.req.RequestContext.Authorizer.JWT.Claims["sub"]; err != nil || got != want {
					t.Errorf("Subject() = %q, %v; want %q, nil", got, err, want)
				}
				return
			}
			p, ok := errors.AsType[*Problem](err)
			if !ok || p.Status != tt.wantStatus || got != "" {
				t.Fatalf("Subject() = %.40q, %v; want a %d problem", got, err, tt.wantStatus)
			}
			if len(p.Detail) > 200 {
				t.Errorf("detail %q echoes the subject", p.Detail)
			}
		})
	}
}

// TestSubjectAndKeyFitAPartitionKey: services key idempotency records by a prefix, the subject and
// the Idempotency-Key ("submit/{sub}/{key}", "ledger/{sub}/{key}"); the longest of each must fit
// DynamoDB's 2048-byte partition key, or the longest legal request would answer 500.
func TestSubjectAndKeyFitAPartitionKey(t *testing.T) {
	const dynamoDBMaxPartitionKey = 2048
	longestPrefix := len("submit/") // the longest prefix any service uses, with room to spare below
	if n := longestPrefix + MaxSubjectLength + len("/") + MaxIdempotencyKeyLength; n > dynamoDBMaxPartitionKey/4 {
		t.Errorf("longest idempotency record key = %d bytes; want well under %d", n, dynamoDBMaxPartitionKey)
	}
}

func TestPathID(t *testing.T) {
	errNoJob := errors.New("job not found")
	req := func(id string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"jobId": id}}
	}
	tests := []struct {
		id     string
		wantOK bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"", false},
		{"0123456789ABCDEF0123456789ABCDEF", false},
		{"0123456789abcdef0123456789abcde", false},
		{"0123456789abcdef0123456789abcdef0", false},
		{"0123456789abcdef0123456789abcdeg", false},
		{strings.Repeat("a", 3000), false},
		{"../../etc/passwd", false},
	}
	for _, tt := range tests {
		got, err := PathID(req(tt.id), "jobId", HexID, errNoJob)
		if tt.wantOK && (err != nil || got != tt.id) {
			t.Errorf("PathID(%.40q) = %q, %v; want the id", tt.id, got, err)
		}
		if !tt.wantOK && (err != errNoJob || got != "") {
			t.Errorf("PathID(%.40q) = %q, %v; want the not-found error itself", tt.id, got, err)
		}
	}
	if _, err := PathID(events.APIGatewayV2HTTPRequest{}, "jobId", HexID, errNoJob); err != errNoJob {
		t.Errorf("PathID(no parameter) = %v; want the not-found error", err)
	}
}

// fieldError is a domain's own type with the InvalidParam behaviour, not shared/invalid's.
type fieldError struct{ field, reason string }

func (e fieldError) Error() string                       { return "bad " + e.field }
func (e fieldError) InvalidParam() (name, reason string) { return e.field, e.reason }

func TestErrorResponseInvalidParam(t *testing.T) {
	errUnknownSKU := fieldError{"sku", "names no product"}
	rules := []ErrorRule{{Err: errUnknownSKU, Status: http.StatusNotFound, Title: "Product not found"}}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantParam  InvalidParam
	}{
		{"wrapped", fmt.Errorf("validate job for table jobs-prod: %w", fieldError{"durationMs", "must be between 0 and 20000"}), 400, "durationMs must be between 0 and 20000", InvalidParam{"durationMs", "must be between 0 and 20000"}},
		{"by a rule", fmt.Errorf("price in table prices-prod: %w", errUnknownSKU), 404, "sku names no product", InvalidParam{"sku", "names no product"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			resp := ErrorResponse(withID, log, tt.err, rules...)
			var p Problem
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || p.Detail != tt.wantDetail || !reflect.DeepEqual(p.InvalidParams, []InvalidParam{tt.wantParam}) {
				t.Errorf("response = %d %s; want %d, detail %q naming %+v", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantDetail, tt.wantParam)
			}
			if strings.Contains(resp.Body, "-prod") {
				t.Errorf("body %s leaks the wrapping", resp.Body)
			}
			if logs.Len() != 0 {
				t.Errorf("logged %s; a refusal is not an error", logs.String())
			}
		})
	}
}

func TestErrorRuleRetryAfter(t *testing.T) {
	errBusy := errors.New("busy")
	tests := []struct {
		retryAfter time.Duration
		want       string
	}{
		{0, ""},
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{time.Millisecond, "1"},
	}
	for _, tt := range tests {
		resp := ErrorResponse(withID, slog.New(slog.DiscardHandler), errBusy, ErrorRule{Err: errBusy, Status: http.StatusConflict, RetryAfter: tt.retryAfter})
		if got := resp.Headers["Retry-After"]; got != tt.want || resp.StatusCode != http.StatusConflict {
			t.Errorf("RetryAfter %v: %d Retry-After %q; want 409 %q", tt.retryAfter, resp.StatusCode, got, tt.want)
		}
		if resp.Headers[correlation.Header] != "abc" {
			t.Errorf("RetryAfter %v: headers %v lost the correlation ID", tt.retryAfter, resp.Headers)
		}
	}
}

func TestHeader(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"idempotency-key": "k1", "X-Mixed": "m"}}
	tests := []struct{ name, want string }{
		{"Idempotency-Key", "k1"},
		{"idempotency-key", "k1"},
		{"x-mixed", "m"},
		{"absent", ""},
	}
	for _, tt := range tests {
		if got := Header(req, tt.name); got != tt.want {
			t.Errorf("Header(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string
		wantErr bool
	}{
		{"absent", nil, "", false},
		{"present, any header case", map[string]string{"Idempotency-Key": "order-42"}, "order-42", false},
		{"longest allowed", map[string]string{"idempotency-key": strings.Repeat("k", MaxIdempotencyKeyLength)}, strings.Repeat("k", MaxIdempotencyKeyLength), false},
		{"too long", map[string]string{"idempotency-key": strings.Repeat("k", MaxIdempotencyKeyLength+1)}, "", true},
		{"space", map[string]string{"idempotency-key": "order 42"}, "", true},
		{"control character", map[string]string{"idempotency-key": "order\x0042"}, "", true},
		{"non-ASCII", map[string]string{"idempotency-key": "bestellung-ä"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IdempotencyKey(events.APIGatewayV2HTTPRequest{Headers: tt.headers})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("IdempotencyKey = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			var p *Problem
			if tt.wantErr && (!errors.As(err, &p) || p.Status != 400 || len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "Idempotency-Key") {
				t.Errorf("error = %#v; want a 400 problem naming Idempotency-Key", err)
			}
		})
	}
}
