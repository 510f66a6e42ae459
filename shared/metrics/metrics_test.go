package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// validUnits is the EMF specification's list of units (CloudWatch's StandardUnit).
var validUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// validateEMF checks one line against the EMF specification's required structure and limits,
// and returns its root object.
func validateEMF(t *testing.T, line string) map[string]any {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal([]byte(line), &root); err != nil {
		t.Fatalf("line is not one JSON object: %v\n%s", err, line)
	}
	aws, ok := root["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	if ts, ok := aws["Timestamp"].(float64); !ok || ts <= 0 {
		t.Errorf("_aws.Timestamp = %v; want epoch milliseconds", aws["Timestamp"])
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics = %v; want an array of directives", aws["CloudWatchMetrics"])
	}
	for _, d := range directives {
		d := d.(map[string]any)
		if ns, ok := d["Namespace"].(string); !ok || ns == "" {
			t.Errorf("Namespace = %v; want a string", d["Namespace"])
		}
		sets, ok := d["Dimensions"].([]any)
		if !ok {
			t.Errorf("Dimensions = %v; want an array of arrays", d["Dimensions"])
		}
		for _, set := range sets {
			names, ok := set.([]any)
			if !ok || len(names) > MaxDimensions {
				t.Errorf("dimension set %v; want an array of at most %d names", set, MaxDimensions)
			}
			for _, n := range names {
				name, ok := n.(string)
				if !ok {
					t.Errorf("dimension name %v is not a string", n)
					continue
				}
				if _, ok := root[name].(string); !ok {
					t.Errorf("dimension %s is not a top-level string member", name)
				}
			}
		}
		metrics, ok := d["Metrics"].([]any)
		if !ok || len(metrics) == 0 || len(metrics) > MaxMetrics {
			t.Errorf("Metrics has %d definitions; want 1 to %d", len(metrics), MaxMetrics)
		}
		for _, m := range metrics {
			m := m.(map[string]any)
			name, ok := m["Name"].(string)
			if !ok || name == "" {
				t.Errorf("metric Name = %v; want a string", m["Name"])
				continue
			}
			if u, ok := m["Unit"]; ok && !validUnits[fmt.Sprint(u)] {
				t.Errorf("metric %s unit %v is not a CloudWatch unit", name, u)
			}
			switch v := root[name].(type) {
			case float64:
			case []any:
				if len(v) == 0 || len(v) > MaxValues {
					t.Errorf("metric %s has %d values; want 1 to %d", name, len(v), MaxValues)
				}
				for _, x := range v {
					if _, ok := x.(float64); !ok {
						t.Errorf("metric %s value %v is not a number", name, x)
					}
				}
			default:
				t.Errorf("metric %s is not a top-level number or array of numbers: %v", name, root[name])
			}
		}
	}
	return root
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var at = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func TestFlushWritesOneValidLine(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, "GoServerless/Jobs", Dimension{"Service", "jobs"})
	c.Now = func() time.Time { return at }
	c.Count("JobsSubmitted")
	c.Count("JobsSubmitted")
	c.Add("QueueAge", Milliseconds, 12.5)
	c.Property("route", "POST /jobs")
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	got := lines(&buf)
	if len(got) != 1 {
		t.Fatalf("%d lines; want 1:\n%s", len(got), buf.String())
	}
	root := validateEMF(t, got[0])
	aws := root["_aws"].(map[string]any)
	if aws["Timestamp"] != float64(at.UnixMilli()) {
		t.Errorf("Timestamp = %v; want %d", aws["Timestamp"], at.UnixMilli())
	}
	d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if d["Namespace"] != "GoServerless/Jobs" || fmt.Sprint(d["Dimensions"]) != "[[Service]]" {
		t.Errorf("directive = %v; want namespace GoServerless/Jobs, dimensions [[Service]]", d)
	}
	if fmt.Sprint(d["Metrics"]) != "[map[Name:JobsSubmitted Unit:Count] map[Name:QueueAge Unit:Milliseconds]]" {
		t.Errorf("Metrics = %v; want JobsSubmitted in Count, QueueAge in Milliseconds", d["Metrics"])
	}
	if fmt.Sprint(root["JobsSubmitted"]) != "[1 1]" || root["QueueAge"] != 12.5 || root["Service"] != "jobs" || root["route"] != "POST /jobs" {
		t.Errorf("root = %v; want JobsSubmitted [1 1], QueueAge 12.5, Service jobs, route", root)
	}

	// A second Flush with nothing added writes nothing: values go out once.
	buf.Reset()
	if err := c.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("second Flush wrote %q (err %v); want nothing", buf.String(), err)
	}
}

func TestFlushSplitsAtTheSpecificationLimits(t *testing.T) {
	tests := []struct {
		name      string
		metrics   int
		values    int
		wantLines int
	}{
		{"100 metrics fit one line", 100, 1, 1},
		{"101 metrics take two", 101, 1, 2},
		{"100 values fit one line", 1, 100, 1},
		{"250 values take three", 1, 250, 3},
		{"150 metrics of 150 values take four", 150, 150, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := New(&buf, "GoServerless/Test", Dimension{"Service", "test"})
			for m := range tt.metrics {
				for v := range tt.values {
					c.Add(fmt.Sprintf("M%d", m), Count, float64(v))
				}
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			got := lines(&buf)
			if len(got) != tt.wantLines {
				t.Fatalf("%d lines; want %d", len(got), tt.wantLines)
			}
			// Every value is written exactly once across the lines.
			seen := 0
			for _, l := range got {
				root := validateEMF(t, l)
				for _, d := range root["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
					for _, m := range d.(map[string]any)["Metrics"].([]any) {
						switch v := root[m.(map[string]any)["Name"].(string)].(type) {
						case []any:
							seen += len(v)
						default:
							seen++
						}
					}
				}
			}
			if seen != tt.metrics*tt.values {
				t.Errorf("%d values written; want %d", seen, tt.metrics*tt.values)
			}
		})
	}
}

func TestFlushRefusesAMetricNamedLikeADimension(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, "GoServerless/Test", Dimension{"Service", "test"})
	c.Count("Service")
	if err := c.Flush(); err == nil || buf.Len() != 0 {
		t.Errorf("Flush = %v, wrote %q; want an error and nothing written", err, buf.String())
	}
}

func TestConcurrentAddsAreAllCounted(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, "GoServerless/Test", Dimension{"Service", "test"})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Count("Done") })
	}
	wg.Wait()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	root := validateEMF(t, lines(&buf)[0])
	if n := len(root["Done"].([]any)); n != 50 {
		t.Errorf("%d values; want 50", n)
	}
}

func TestFlushedFlushesOncePerInvocationEvenOnError(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, "GoServerless/Test", Dimension{"Service", "test"})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	boom := errors.New("boom")
	h := Flushed(c, log, func(_ context.Context, fail bool) (string, error) {
		c.Count("Invocations")
		if fail {
			return "", boom
		}
		return "ok", nil
	})
	if out, err := h(context.Background(), false); out != "ok" || err != nil {
		t.Fatalf("h = %q, %v; want ok", out, err)
	}
	if _, err := h(context.Background(), true); !errors.Is(err, boom) {
		t.Fatalf("h err = %v; want boom", err)
	}
	got := lines(&buf)
	if len(got) != 2 {
		t.Fatalf("%d lines; want one per invocation:\n%s", len(got), buf.String())
	}
	for _, l := range got {
		if root := validateEMF(t, l); root["Invocations"] != float64(1) {
			t.Errorf("Invocations = %v; want 1 per line", root["Invocations"])
		}
	}

	buf.Reset()
	e := FlushedErr(c, log, func(_ context.Context, _ int) error { c.Count("Invocations"); return boom })
	if err := e(context.Background(), 1); !errors.Is(err, boom) || len(lines(&buf)) != 1 {
		t.Errorf("FlushedErr: err %v, %d lines; want boom and 1 line", err, len(lines(&buf)))
	}
}

// TestFlushedFlushesAPanickedInvocation: the values a handler added before it panicked are
// written, and the panic goes on to the runtime (which reports it and ends the process).
func TestFlushedFlushesAPanickedInvocation(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, "GoServerless/Test", Dimension{"Service", "test"})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for name, call := range map[string]func(){
		"Flushed": func() {
			_, _ = Flushed(c, log, func(context.Context, int) (int, error) { c.Count("Invocations"); panic("boom") })(context.Background(), 1)
		},
		"FlushedErr": func() {
			_ = FlushedErr(c, log, func(context.Context, int) error { c.Count("Invocations"); panic("boom") })(context.Background(), 1)
		},
	} {
		buf.Reset()
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("%s: recovered %v; want the handler's panic", name, r)
				}
			}()
			call()
		}()
		got := lines(&buf)
		if len(got) != 1 || validateEMF(t, got[0])["Invocations"] != float64(1) {
			t.Errorf("%s: %d lines after a panic; want one with Invocations 1:\n%s", name, len(got), buf.String())
		}
	}
}
