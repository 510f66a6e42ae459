// Package lambdatest is what the handler tests of every service share: an
// event fixture read from testdata, a logger for the handler under test, and
// the problem details an HTTP API handler answered, decoded.
//
// It exists because each service's handler tests carried its own copy of
// these few lines, and a fix to one copy (a decode error no longer ignored,
// a Content-Type now checked) did not reach the others. It is for _test.go
// files only:
//
//	var req events.APIGatewayV2HTTPRequest
//	lambdatest.Event(t, "../../testdata/submit-job.json", &req)
//	resp, err := Submit{Jobs: fake, Log: lambdatest.QuietLogger()}.Handle(ctx, req)
//	...
//	p := lambdatest.Problem(t, resp)
//	if len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != "task" { ... }
package lambdatest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/httpapi"
)

// ProblemContentType is the media type of an RFC 9457 problem details answer.
const ProblemContentType = "application/problem+json"

// Event reads the JSON event at path into v, usually a pointer to an
// aws-lambda-go events type. The fixtures are a service's testdata files,
// the same ones `sam local invoke -e` takes. A file that cannot be read or
// decoded fails the test at once: a test cannot mean anything without its
// event.
func Event(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode event %s: %v", path, err)
	}
}

// QuietLogger returns a logger that formats every record at Info level and
// above as JSON, as a handler logs in Lambda, and throws it away: the
// handler's logging code runs, and the test output stays readable.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// Logs holds what a logger from [CaptureLogger] wrote, one JSON record a
// line. Writes may come from several goroutines (an SDK's, a timer's).
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it is the logger's output.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Lines returns the records written so far, one JSON object each, oldest
// first; none when nothing was logged.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	text := strings.TrimSpace(l.buf.String())
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// CaptureLogger returns a logger that writes every record, Debug level
// included, as JSON into the returned Logs, for tests that check what a
// handler logged.
func CaptureLogger() (*slog.Logger, *Logs) {
	l := &Logs{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// Problem returns the RFC 9457 problem details resp carries. It fails the
// test at once unless resp is one: Content-Type application/problem+json, a
// body that decodes, and a status member equal to the response's status.
func Problem(t testing.TB, resp events.APIGatewayV2HTTPResponse) httpapi.Problem {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != ProblemContentType {
		t.Fatalf("Content-Type = %q; want %s (status %d, body %s)", ct, ProblemContentType, resp.StatusCode, resp.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("decode problem %q: %v", resp.Body, err)
	}
	if p.Status != resp.StatusCode {
		t.Fatalf("problem status = %d; want the response's %d (body %s)", p.Status, resp.StatusCode, resp.Body)
	}
	return p
}
