package lambdapool

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRuntimeAPIRoutes checks how the Runtime API answers requests no runtime in a good state
// sends, against an environment with no process behind it.
func TestRuntimeAPIRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		served     bool
		method     string
		path       string
		body       string
		wantStatus int
		wantInit   *FunctionError
	}{
		{name: "unknown path", method: "GET", path: "/2018-06-01/runtime/unknown", wantStatus: http.StatusNotFound},
		{name: "unknown version", method: "GET", path: "/2099-01-01/runtime/invocation/next", wantStatus: http.StatusNotFound},
		{name: "logs api", method: "PUT", path: "/2020-08-15/logs", wantStatus: http.StatusNotFound},
		{name: "extension without a name", method: "POST", path: "/2020-01-01/extension/register", body: "{}", wantStatus: http.StatusBadRequest},
		{name: "wrong method", method: "GET", path: "/2018-06-01/runtime/invocation/x/response", wantStatus: http.StatusMethodNotAllowed},
		{name: "response for no invocation", method: "POST", path: "/2018-06-01/runtime/invocation/x/response", body: "{}", wantStatus: http.StatusBadRequest},
		{name: "error for no invocation", method: "POST", path: "/2018-06-01/runtime/invocation/x/error", body: "{}", wantStatus: http.StatusBadRequest},
		{
			name:       "init error",
			method:     "POST",
			path:       "/2018-06-01/runtime/init/error",
			body:       `{"errorType":"Runtime.Config","errorMessage":"no table"}`,
			wantStatus: http.StatusAccepted,
			wantInit:   &FunctionError{Type: "Runtime.Config", Message: "no table"},
		},
		{name: "init error after init", served: true, method: "POST", path: "/2018-06-01/runtime/init/error", body: "{}", wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(Options{})
			fn := &function{cfg: Function{Name: "routes", Timeout: time.Second}, limit: 1}
			e := &env{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{}), served: tt.served}

			rec := httptest.NewRecorder()
			p.runtimeAPI(e).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))

			if rec.Code != tt.wantStatus {
				t.Errorf("got status %d (%s), want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			switch {
			case tt.wantInit == nil && e.initFailure != nil:
				t.Errorf("got init failure %+v, want none", *e.initFailure)
			case tt.wantInit != nil && (e.initFailure == nil || *e.initFailure != *tt.wantInit):
				t.Errorf("got init failure %v, want %+v", e.initFailure, *tt.wantInit)
			}
		})
	}
}

func TestErrorResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		header      string
		want        FunctionError
		wantPayload string
	}{
		{
			name:        "error document",
			body:        `{"errorMessage":"boom","errorType":"errorString","stackTrace":[]}`,
			want:        FunctionError{Type: "errorString", Message: "boom"},
			wantPayload: `{"errorMessage":"boom","errorType":"errorString","stackTrace":[]}`,
		},
		{
			name:        "type only in the header",
			body:        `{"errorMessage":"boom"}`,
			header:      "Custom.Error",
			want:        FunctionError{Type: "Custom.Error", Message: "boom"},
			wantPayload: `{"errorMessage":"boom"}`,
		},
		{
			name:        "not json",
			body:        `it broke`,
			header:      "Custom.Error",
			want:        FunctionError{Type: "Custom.Error", Message: "it broke"},
			wantPayload: `{"errorType":"Custom.Error","errorMessage":"it broke"}`,
		},
		{
			name:        "nothing to go on",
			want:        FunctionError{Type: "Unhandled"},
			wantPayload: `{"errorType":"Unhandled","errorMessage":""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := errorResult([]byte(tt.body), tt.header)
			if *got.Err != tt.want {
				t.Errorf("got error %+v, want %+v", *got.Err, tt.want)
			}
			if string(got.Payload) != tt.wantPayload {
				t.Errorf("got payload %s, want %s", got.Payload, tt.wantPayload)
			}
		})
	}
}
