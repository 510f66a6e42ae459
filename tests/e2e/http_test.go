package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var client = &http.Client{Timeout: 40 * time.Second}

// response is what a test looks at in an HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
}

// service is one service of the app, named as the root template names its parts: the nested
// application <name>App, whose API's URL is the root's output <name>ApiUrl. Each service's
// tests declare their own (const jobs service = "Jobs" in jobs_test.go) and reach only that
// service's API and functions through it, so a fork keeps this harness and one service's file.
type service string

// url returns the base URL of the service's API, without a trailing slash. Locally every
// service's API is served on the one URL of the runner.
func (s service) url(t *testing.T) string {
	t.Helper()
	key := string(s) + "ApiUrl"
	u := st.outputs[key]
	if u == "" {
		t.Fatalf("the stack has no output %s, the URL of the %s API", key, s)
	}
	return strings.TrimSuffix(u, "/")
}

// functionName returns the name the function logicalID of the service has in the stack.
func (s service) functionName(t *testing.T, logicalID string) string {
	t.Helper()
	return st.functionName(t, string(s)+"App", logicalID)
}

// call sends one request to the service's API. token may be empty; headers are added as given.
func (s service) call(t *testing.T, method, path, token, body string, headers ...string) response {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url(t)+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: bytes.TrimSpace(b)}
}

// getAsync reads an asynchronous resource once and decodes its body into v: true when the
// answer is 200 (done), false when it is 202 (not yet), which must say when to ask again in
// Retry-After. Any other status fails the test.
func (s service) getAsync(t *testing.T, token, path string, v any) (done bool) {
	t.Helper()
	r := s.call(t, http.MethodGet, path, token, "")
	switch r.status {
	case http.StatusOK:
		r.json(t, v)
		return true
	case http.StatusAccepted:
		r.json(t, v)
		if r.header.Get("Retry-After") == "" {
			t.Fatalf("GET %s = 202 %s without Retry-After", path, r.body)
		}
		return false
	default:
		t.Fatalf("GET %s = %d %s; want 200 or 202", path, r.status, r.body)
		return false
	}
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
	InvalidParams []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid-params"`
}

// wantProblem checks that r is a problem+json answer with status, and returns it.
func wantProblem(t *testing.T, r response, status int) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, body %s; want %d", r.status, r.body, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q; want application/problem+json", ct)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status || p.Title == "" {
		t.Fatalf("problem = %+v; want status %d and a title", p, status)
	}
	return p
}
