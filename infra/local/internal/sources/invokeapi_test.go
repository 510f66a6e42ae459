package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// payloadEnqueuer records asynchronous invokes.
type payloadEnqueuer struct {
	mu     sync.Mutex
	events []call
}

func (f *payloadEnqueuer) Enqueue(function string, payload []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, call{function: function, payload: bytes.Clone(payload)})
	return "req-1"
}

func (f *payloadEnqueuer) Events() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.events...)
}

// startInvokeAPI serves an InvokeAPI routing to inv and async for the function "worker".
func startInvokeAPI(t *testing.T, inv Invoker, async AsyncEnqueuer) *InvokeAPI {
	t.Helper()
	api, err := ListenInvokeAPI("127.0.0.1:0", quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	if inv != nil {
		api.Route(inv, async, []string{"worker"})
	}
	return api
}

type invokeAnswer struct {
	status  int
	header  http.Header
	body    string
	errType string
}

// invokeHTTP posts an Invoke request the way the AWS SDK does.
func invokeHTTP(t *testing.T, api *InvokeAPI, function, invocationType, payload string) invokeAnswer {
	t.Helper()
	u := api.URL() + "/2015-03-31/functions/" + url.PathEscape(function) + "/invocations"
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if invocationType != "" {
		req.Header.Set("X-Amz-Invocation-Type", invocationType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return invokeAnswer{status: resp.StatusCode, header: resp.Header, body: string(body), errType: resp.Header.Get("X-Amzn-Errortype")}
}

func TestInvokeAPISync(t *testing.T) {
	inv := &fakeInvoker{respond: func(_ context.Context, _ string, payload []byte) (lambdapool.Result, error) {
		switch string(payload) {
		case `{"fail":true}`:
			return lambdapool.Result{Payload: []byte(`{"errorType":"errors.errorString","errorMessage":"boom"}`), Err: &lambdapool.FunctionError{Type: "errors.errorString", Message: "boom"}}, nil
		case `{"busy":true}`:
			return lambdapool.Result{}, lambdapool.ErrThrottled
		}
		return lambdapool.Result{Payload: []byte(`{"echo":` + string(payload) + `}`)}, nil
	}}
	api := startInvokeAPI(t, inv, &payloadEnqueuer{})
	arn := "arn:aws:lambda:us-east-1:123456789012:function:worker"
	tests := []struct {
		name, function, typ, payload string
		wantStatus                   int
		wantBody, wantFunctionError  string
		wantErrType                  string
	}{
		{name: "by name", function: "worker", payload: `{"n":1}`, wantStatus: 200, wantBody: `{"echo":{"n":1}}`},
		{name: "RequestResponse by ARN", function: arn, typ: "RequestResponse", payload: `{"n":2}`, wantStatus: 200, wantBody: `{"echo":{"n":2}}`},
		{name: "$LATEST", function: "worker:$LATEST", payload: `1`, wantStatus: 200, wantBody: `{"echo":1}`},
		{name: "function error", function: "worker", payload: `{"fail":true}`, wantStatus: 200, wantFunctionError: "Unhandled", wantBody: `{"errorType":"errors.errorString","errorMessage":"boom"}`},
		{name: "throttled", function: "worker", payload: `{"busy":true}`, wantStatus: 429, wantErrType: "TooManyRequestsException"},
		{name: "unknown function", function: "nobody", payload: `{}`, wantStatus: 404, wantErrType: "ResourceNotFoundException"},
		{name: "unknown version", function: arn + ":7", payload: `{}`, wantStatus: 404, wantErrType: "ResourceNotFoundException"},
		{name: "not JSON", function: "worker", payload: `{oops`, wantStatus: 400, wantErrType: "InvalidRequestContentException"},
		{name: "bad invocation type", function: "worker", typ: "Later", payload: `{}`, wantStatus: 400, wantErrType: "InvalidParameterValueException"},
		{name: "dry run", function: "worker", typ: "DryRun", payload: `{}`, wantStatus: 204},
		{name: "dry run of unknown function", function: "nobody", typ: "DryRun", payload: `{}`, wantStatus: 404, wantErrType: "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := invokeHTTP(t, api, tt.function, tt.typ, tt.payload)
			if got.status != tt.wantStatus || got.errType != tt.wantErrType {
				t.Fatalf("status %d, error type %q (%s); want %d, %q", got.status, got.errType, got.body, tt.wantStatus, tt.wantErrType)
			}
			if tt.wantBody != "" && got.body != tt.wantBody {
				t.Errorf("body %s; want %s", got.body, tt.wantBody)
			}
			if fe := got.header.Get("X-Amz-Function-Error"); fe != tt.wantFunctionError {
				t.Errorf("X-Amz-Function-Error = %q; want %q", fe, tt.wantFunctionError)
			}
			if tt.wantErrType != "" {
				var doc map[string]string
				if err := json.Unmarshal([]byte(got.body), &doc); err != nil || doc["message"] == "" {
					t.Errorf("error body %s; want a JSON document with a message", got.body)
				}
			}
		})
	}
	// Only the requests that reached the function invoked it, each once.
	if n := len(inv.Calls()); n != 5 {
		t.Errorf("%d invocations; want 5", n)
	}
}

func TestInvokeAPIEventIsQueuedNotRun(t *testing.T) {
	inv := &fakeInvoker{}
	async := &payloadEnqueuer{}
	api := startInvokeAPI(t, inv, async)

	got := invokeHTTP(t, api, "arn:aws:lambda:us-east-1:123456789012:function:worker", "Event", `{"importId":"i-1","offset":42}`)
	if got.status != 202 || got.body != "" {
		t.Fatalf("status %d body %q; want 202 and no body", got.status, got.body)
	}
	events := async.Events()
	if len(events) != 1 || events[0].function != "worker" || string(events[0].payload) != `{"importId":"i-1","offset":42}` {
		t.Errorf("queued %+v; want one event for worker with the payload", events)
	}
	if n := len(inv.Calls()); n != 0 {
		t.Errorf("%d synchronous invocations; want none (Async delivers)", n)
	}
	big := `"` + strings.Repeat("x", MaxAsyncPayload) + `"`
	if got := invokeHTTP(t, api, "worker", "Event", big); got.status != 413 || got.errType != "RequestTooLargeException" {
		t.Errorf("oversized event: %d %q; want 413 RequestTooLargeException", got.status, got.errType)
	}
}

func TestInvokeAPIEventDeliveredThroughAsync(t *testing.T) {
	// The Event path with the real asynchronous invoker: a function error is retried, then the
	// function sees the payload succeed.
	var mu sync.Mutex
	attempts := 0
	delivered := make(chan []byte, 1)
	inv := &fakeInvoker{respond: func(_ context.Context, _ string, payload []byte) (lambdapool.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			return lambdapool.Result{Payload: []byte(`{}`), Err: &lambdapool.FunctionError{Type: "Runtime.ExitError", Message: "exit 2"}}, nil
		}
		delivered <- payload
		return lambdapool.Result{Payload: []byte(`null`)}, nil
	}}
	async := &Async{Invoker: inv, Log: quietLogger(), RetryDelay: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { async.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	api := startInvokeAPI(t, inv, async)

	if got := invokeHTTP(t, api, "worker", "Event", `{"n":7}`); got.status != 202 {
		t.Fatalf("status %d; want 202", got.status)
	}
	select {
	case p := <-delivered:
		if string(p) != `{"n":7}` {
			t.Errorf("delivered %s; want the payload", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event was never delivered")
	}
}

func TestInvokeAPIRefusesUntilRouted(t *testing.T) {
	api := startInvokeAPI(t, nil, nil)
	if got := invokeHTTP(t, api, "worker", "", `{}`); got.status != 503 || got.errType != "ServiceException" {
		t.Errorf("before Route: %d %q; want 503 ServiceException", got.status, got.errType)
	}
}

func TestFunctionName(t *testing.T) {
	tests := []struct {
		ref, qualifier, want string
		ok                   bool
	}{
		{"worker", "", "worker", true},
		{"worker", "$LATEST", "worker", true},
		{"worker:$LATEST", "", "worker", true},
		{"arn:aws:lambda:eu-west-1:123456789012:function:worker", "", "worker", true},
		{"arn:aws:lambda:eu-west-1:123456789012:function:worker:$LATEST", "", "worker", true},
		{"123456789012:function:worker", "", "worker", true},
		{"worker:live", "", "", false},
		{"worker", "3", "", false},
		{"worker:$LATEST", "live", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		got, ok := functionName(tt.ref, tt.qualifier)
		if got != tt.want || ok != tt.ok {
			t.Errorf("functionName(%q, %q) = %q, %v; want %q, %v", tt.ref, tt.qualifier, got, ok, tt.want, tt.ok)
		}
	}
}
