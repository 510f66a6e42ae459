package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-serverless/reference/shared/correlation"
)

// capture returns a logger built on NewHandler over a JSON handler that
// writes to the returned buffer. The inner handler's own level is ERROR to
// show that NewHandler alone decides what is logged.
func capture(level slog.Level) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	inner := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})
	return slog.New(NewHandler(inner, level)), &buf
}

// lines decodes each JSON line in buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("decode log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLevelGate(t *testing.T) {
	sampled := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc", DebugSampled: true})
	unsampled := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc"})
	tests := []struct {
		name  string
		floor slog.Level
		ctx   context.Context
		level slog.Level
		want  bool
	}{
		{"unsampled debug dropped", slog.LevelInfo, unsampled, slog.LevelDebug, false},
		{"sampled debug logged", slog.LevelInfo, sampled, slog.LevelDebug, true},
		{"no ids debug dropped", slog.LevelInfo, context.Background(), slog.LevelDebug, false},
		{"info logged", slog.LevelInfo, unsampled, slog.LevelInfo, true},
		{"info under warn floor dropped", slog.LevelWarn, unsampled, slog.LevelInfo, false},
		{"sampled lowers warn floor to debug", slog.LevelWarn, sampled, slog.LevelInfo, true},
		{"below debug never logged", slog.LevelInfo, sampled, slog.LevelDebug - 4, false},
		{"debug floor logs debug", slog.LevelDebug, unsampled, slog.LevelDebug, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := capture(tt.floor)
			log.Log(tt.ctx, tt.level, "hello")
			if got := buf.Len() > 0; got != tt.want {
				t.Errorf("logged = %v, want %v (output %q)", got, tt.want, buf.String())
			}
		})
	}
}

func TestCorrelationAttributes(t *testing.T) {
	tests := []struct {
		name        string
		ctx         context.Context
		wantID      any
		wantSampled any
	}{
		{"sampled", correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc", DebugSampled: true}), "abc", true},
		{"unsampled", correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc"}), "abc", nil},
		{"no ids", context.Background(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := capture(slog.LevelInfo)
			log.InfoContext(tt.ctx, "hello")
			got := lines(t, buf)
			if len(got) != 1 {
				t.Fatalf("got %d lines, want 1", len(got))
			}
			if got[0][KeyCorrelationID] != tt.wantID {
				t.Errorf("%s = %v, want %v", KeyCorrelationID, got[0][KeyCorrelationID], tt.wantID)
			}
			if got[0][KeyDebugSampled] != tt.wantSampled {
				t.Errorf("%s = %v, want %v", KeyDebugSampled, got[0][KeyDebugSampled], tt.wantSampled)
			}
		})
	}
}

func TestWithKeepsBehaviour(t *testing.T) {
	sampled := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc", DebugSampled: true})
	log, buf := capture(slog.LevelInfo)

	log.With("jobId", "j1").DebugContext(sampled, "with attrs")
	log.WithGroup("job").DebugContext(sampled, "with group", "id", "j1")
	log.With("jobId", "j1").DebugContext(context.Background(), "unsampled")

	got := lines(t, buf)
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2: %s", len(got), buf)
	}
	if got[0][KeyCorrelationID] != "abc" || got[0]["jobId"] != "j1" {
		t.Errorf("WithAttrs line = %v, want correlationId abc and jobId j1", got[0])
	}
	group, _ := got[1]["job"].(map[string]any)
	if group[KeyCorrelationID] != "abc" || group["id"] != "j1" {
		t.Errorf("WithGroup line = %v, want job.correlationId abc and job.id j1", got[1])
	}
}

func TestLevelFromEnv(t *testing.T) {
	tests := []struct {
		env  string
		want slog.Level
	}{
		{"", slog.LevelInfo},
		{"DEBUG", slog.LevelDebug},
		{"INFO", slog.LevelInfo},
		{"WARN", slog.LevelWarn},
		{"ERROR", slog.LevelError},
		{"warn", slog.LevelWarn},
		{"LOUD", slog.LevelInfo},
	}
	for _, tt := range tests {
		getenv := func(k string) string {
			if k == "LOG_LEVEL" {
				return tt.env
			}
			return ""
		}
		if got := levelFromEnv(getenv); got != tt.want {
			t.Errorf("levelFromEnv(LOG_LEVEL=%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	t.Setenv("LOG_LEVEL", "WARN")
	log := New()
	if log.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("INFO enabled with LOG_LEVEL=WARN")
	}
	sampled := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "abc", DebugSampled: true})
	if !log.Enabled(sampled, slog.LevelDebug) {
		t.Error("DEBUG not enabled for a sampled chain")
	}
}

// withTraceHeader returns ctx carrying header the way aws-lambda-go stores the invocation's
// Lambda-Runtime-Trace-Id: under the plain string key "x-amzn-trace-id".
func withTraceHeader(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, "x-amzn-trace-id", header) //nolint:staticcheck // aws-lambda-go's own key
}

func TestTraceAttribute(t *testing.T) {
	ids := correlation.IDs{CorrelationID: "abc"}
	tests := []struct {
		name   string
		ctx    context.Context
		wantID any
	}{
		{"root first", withTraceHeader(context.Background(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"), "1-5759e988-bd862e3fe1be46a994272793"},
		{"root later", withTraceHeader(context.Background(), "Parent=53995c3f42cd8ad8; Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"), "1-5759e988-bd862e3fe1be46a994272793"},
		{"next to correlation", withTraceHeader(correlation.NewContext(context.Background(), ids), "Root=1-00000001-000000000000000000000002"), "1-00000001-000000000000000000000002"},
		{"no root", withTraceHeader(context.Background(), "Parent=53995c3f42cd8ad8;Sampled=0"), nil},
		{"empty header", withTraceHeader(context.Background(), ""), nil},
		{"no header", context.Background(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := capture(slog.LevelInfo)
			log.InfoContext(tt.ctx, "hello")
			got := lines(t, buf)
			if len(got) != 1 {
				t.Fatalf("got %d lines, want 1", len(got))
			}
			if got[0][KeyTraceID] != tt.wantID {
				t.Errorf("%s = %v, want %v (line %v)", KeyTraceID, got[0][KeyTraceID], tt.wantID, got[0])
			}
		})
	}
	// Both ids on one line: the trace leads to the logs of one invocation, the correlation ID to
	// those of the whole chain.
	log, buf := capture(slog.LevelInfo)
	log.With("jobId", "j1").InfoContext(withTraceHeader(correlation.NewContext(context.Background(), ids), "Root=1-00000001-000000000000000000000002"), "both")
	got := lines(t, buf)
	if got[0][KeyCorrelationID] != "abc" || got[0][KeyTraceID] != "1-00000001-000000000000000000000002" {
		t.Errorf("line = %v, want correlationId abc and traceId 1-00000001-000000000000000000000002", got[0])
	}
}
