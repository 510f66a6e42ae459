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
	resp := JSON(withID, http.StatusAccepted, map[string]string{"jobId": "j1"})
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
	resp := JSON(context.Background(), http.StatusOK, struct{}{})
	if _, ok := resp.Headers[correlation.Header]; ok {
		t.Errorf("headers = %v, want no %s", resp.Headers, correlation.Header)
	}
}

func TestJSONUnencodable(t *testing.T) {
	resp := JSON(withID, http.StatusOK, map[string]float64{"ratio": math.NaN()})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	if got := resp.Headers["Content-Type"]; got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
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
	a := JSON(withID, http.StatusOK, 1)
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
		{"too large", jsonRequest(`{"kind":"` + strings.Repeat("x", 100) + `"}`), 413, ""},
		{"empty", jsonRequest(""), 400, ""},
		{"blank", jsonRequest("  \n"), 400, ""},
		{"malformed", jsonRequest(`{"kind" "resize"}`), 400, ""},
		{"truncated", jsonRequest(`{"kind":`), 400, ""},
		{"trailing data", jsonRequest(`{"kind":"resize"} {}`), 400, ""},
		{"unknown field", jsonRequest(`{"kind":"resize","x":1}`), 400, "x"},
		{"nested unknown field", jsonRequest(`{"options":{"retires":1}}`), 400, "retires"},
		{"wrong type", jsonRequest(`{"priority":"high"}`), 400, "priority"},
		{"nested wrong type", jsonRequest(`{"options":{"retries":1.5}}`), 400, "options.retries"},
		{"body wrong type", jsonRequest(`[1]`), 400, "(body)"},
		{"field UnmarshalJSON fails", jsonRequest(`{"due":"tomorrow"}`), 400, ""},
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

func TestDecodeJSONTypeReason(t *testing.T) {
	var v createJob
	err := DecodeJSON(jsonRequest(`{"priority":"high"}`), &v, 1024)
	p, _ := errors.AsType[*Problem](err)
	want := []InvalidParam{{Name: "priority", Reason: "must be an integer, not string"}}
	if p == nil || !reflect.DeepEqual(p.InvalidParams, want) {
		t.Errorf("DecodeJSON() = %+v, want invalid params %+v", p, want)
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

func TestSubject(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	if _, err := Subject(req); err == nil {
		t.Error("Subject(no authorizer) = nil error, want 401 problem")
	} else if p, ok := errors.AsType[*Problem](err); !ok || p.Status != http.StatusUnauthorized {
		t.Errorf("Subject(no authorizer) = %v, want 401 problem", err)
	}

	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "user-1"}},
	}
	if got, err := Subject(req); err != nil || got != "user-1" {
		t.Errorf("Subject() = %q, %v, want user-1, nil", got, err)
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
