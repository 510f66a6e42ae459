package lambdatest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// fatalT records a Fatalf and ends the goroutine as testing.T does, so a
// test can check that a helper fails the test that calls it.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatal runs fn with a fatalT and returns the message it failed with, or ""
// when it did not fail.
func fatal(fn func(t testing.TB)) string {
	f := &fatalT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

func TestEvent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name     string
		path     string
		wantBody string
		wantFail string // part of the failure message; "" means no failure
	}{
		{"decoded", write("ok.json", `{"Records":[{"messageId":"m1","body":"hello"}]}`), "hello", ""},
		{"missing file", filepath.Join(dir, "missing.json"), "", "read event"},
		{"not JSON", write("bad.json", `{"Records":[`), "", "decode event"},
		{"wrong shape", write("shape.json", `{"Records":{"body":"x"}}`), "", "decode event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var event events.SQSEvent
			msg := fatal(func(t testing.TB) { Event(t, tt.path, &event) })
			if tt.wantFail == "" {
				if msg != "" {
					t.Fatalf("Event failed the test: %s", msg)
				}
				if len(event.Records) != 1 || event.Records[0].Body != tt.wantBody {
					t.Errorf("event = %+v; want one record with body %q", event, tt.wantBody)
				}
				return
			}
			if !strings.Contains(msg, tt.wantFail) {
				t.Errorf("failure = %q; want it to say %q", msg, tt.wantFail)
			}
		})
	}
}

func TestProblem(t *testing.T) {
	problemJSON := map[string]string{"Content-Type": ProblemContentType}
	tests := []struct {
		name      string
		resp      events.APIGatewayV2HTTPResponse
		wantParam string
		wantFail  string // part of the failure message; "" means no failure
	}{
		{
			name: "problem",
			resp: events.APIGatewayV2HTTPResponse{StatusCode: 400, Headers: problemJSON,
				Body: `{"type":"about:blank","title":"Bad Request","status":400,"invalid-params":[{"name":"task","reason":"required"}]}`},
			wantParam: "task",
		},
		{
			name:     "plain JSON",
			resp:     events.APIGatewayV2HTTPResponse{StatusCode: 400, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"status":400}`},
			wantFail: "Content-Type",
		},
		{
			name:     "no headers",
			resp:     events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: `{"status":500}`},
			wantFail: "Content-Type",
		},
		{
			name:     "body not JSON",
			resp:     events.APIGatewayV2HTTPResponse{StatusCode: 500, Headers: problemJSON, Body: `Internal Server Error`},
			wantFail: "decode problem",
		},
		{
			name:     "status differs",
			resp:     events.APIGatewayV2HTTPResponse{StatusCode: 404, Headers: problemJSON, Body: `{"title":"Not Found","status":400}`},
			wantFail: "problem status",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				status int
				title  string
				params []string
			}
			msg := fatal(func(t testing.TB) {
				p := Problem(t, tt.resp)
				got.status, got.title = p.Status, p.Title
				for _, ip := range p.InvalidParams {
					got.params = append(got.params, ip.Name)
				}
			})
			if tt.wantFail != "" {
				if !strings.Contains(msg, tt.wantFail) {
					t.Errorf("failure = %q; want it to say %q", msg, tt.wantFail)
				}
				return
			}
			if msg != "" {
				t.Fatalf("Problem failed the test: %s", msg)
			}
			if got.status != tt.resp.StatusCode || got.title != "Bad Request" || len(got.params) != 1 || got.params[0] != tt.wantParam {
				t.Errorf("problem = %+v; want status %d, title Bad Request, invalid-params [%s]", got, tt.resp.StatusCode, tt.wantParam)
			}
		})
	}
}

func TestCaptureLogger(t *testing.T) {
	log, logs := CaptureLogger()
	if got := logs.Lines(); got != nil {
		t.Errorf("Lines() before logging = %q; want none", got)
	}
	// Several goroutines, as an SDK's would: the race detector checks Write.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { log.Debug("step", "n", i) })
	}
	wg.Wait()
	log.Info("done", "engine", "v2")

	lines := logs.Lines()
	if len(lines) != 5 {
		t.Fatalf("Lines() = %q; want 5 records, Debug included", lines)
	}
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[4]), &last); err != nil {
		t.Fatalf("decode %q: %v", lines[4], err)
	}
	if last["level"] != "INFO" || last["msg"] != "done" || last["engine"] != "v2" {
		t.Errorf("last record = %v; want INFO done with engine v2", last)
	}
}

func TestQuietLogger(t *testing.T) {
	log := QuietLogger()
	ctx := context.Background()
	if !log.Enabled(ctx, slog.LevelInfo) || log.Enabled(ctx, slog.LevelDebug) {
		t.Errorf("enabled at Info %v, Debug %v; want Info and above, as in Lambda", log.Enabled(ctx, slog.LevelInfo), log.Enabled(ctx, slog.LevelDebug))
	}
	log.Info("formatted and dropped", "k", "v") // must not panic or print
}
