package canary

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

func TestRecordWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	r := NewRecorder(&buf, "pricing", func() time.Time { return at })
	if err := r.Record(Sample{Engine: pricing.V2, Route: "GET /prices/{sku}", Latency: 12500 * time.Microsecond, Failed: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.Record(Sample{Engine: pricing.V1, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines; want 2:\n%s", len(lines), buf.String())
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Service, Engine, Route string
		Latency                float64
		Errors, Requests       int
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.AWS.Timestamp != at.UnixMilli() || len(got.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("_aws = %+v; want the timestamp and one directive", got.AWS)
	}
	d := got.AWS.CloudWatchMetrics[0]
	if d.Namespace != Namespace || len(d.Dimensions) != 1 || strings.Join(d.Dimensions[0], ",") != "Service,Engine" {
		t.Errorf("directive = %+v; want namespace %s and dimensions [Service Engine]", d, Namespace)
	}
	// Every metric and dimension the directive names must be a top-level member, or CloudWatch drops the line.
	var raw map[string]any
	json.Unmarshal([]byte(lines[0]), &raw)
	for _, m := range d.Metrics {
		if _, ok := raw[m.Name]; !ok {
			t.Errorf("metric %s declared but absent", m.Name)
		}
	}
	if got.Service != "pricing" || got.Engine != "v2" || got.Latency != 12.5 || got.Errors != 1 || got.Requests != 1 || got.Route != "GET /prices/{sku}" {
		t.Errorf("line = %+v; want pricing, v2, 12.5 ms, 1 error, 1 request", got)
	}
	if !strings.Contains(lines[1], `"Engine":"v1"`) || !strings.Contains(lines[1], `"Errors":0`) {
		t.Errorf("second line %s; want engine v1 without errors", lines[1])
	}
}
