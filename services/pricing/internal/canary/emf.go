package canary

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/clock"
)

// Namespace is the CloudWatch namespace of the pricing metrics.
const Namespace = "GoServerless/Pricing"

// Recorder writes one EMF line per request to W (the function's stdout, which Lambda sends to
// its log group). Make one with NewRecorder; the zero value has no lock and is not usable.
type Recorder struct {
	W       io.Writer
	Service string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	mu  *sync.Mutex
}

// NewRecorder returns a Recorder for service writing to w.
func NewRecorder(w io.Writer, service string, now func() time.Time) Recorder {
	return Recorder{W: w, Service: service, Now: now, mu: &sync.Mutex{}}
}

// Sample is one request's measurements.
type Sample struct {
	Engine pricing.Engine
	// Route is recorded as a property (searchable in Logs Insights), not a dimension, to keep
	// one metric per engine for the alarm to compare.
	Route   string
	Latency time.Duration
	// Failed is true for a 5xx: errors of the service, not of the caller.
	Failed bool
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfLine struct {
	AWS      emfMetadata `json:"_aws"`
	Service  string      `json:"Service"`
	Engine   string      `json:"Engine"`
	Route    string      `json:"Route,omitempty"`
	Latency  float64     `json:"Latency"`
	Errors   int         `json:"Errors"`
	Requests int         `json:"Requests"`
}

var directive = []emfDirective{{
	Namespace:  Namespace,
	Dimensions: [][]string{{"Service", "Engine"}},
	Metrics: []emfMetric{
		{Name: "Latency", Unit: "Milliseconds"},
		{Name: "Errors", Unit: "Count"},
		{Name: "Requests", Unit: "Count"},
	},
}}

// Record writes s as one EMF line.
func (r Recorder) Record(s Sample) error {
	line := emfLine{
		AWS:      emfMetadata{Timestamp: clock.Now(r.Now).UnixMilli(), CloudWatchMetrics: directive},
		Service:  r.Service,
		Engine:   string(s.Engine),
		Route:    s.Route,
		Latency:  float64(s.Latency.Microseconds()) / 1000,
		Requests: 1,
	}
	if s.Failed {
		line.Errors = 1
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode emf line: %w", err)
	}
	b = append(b, '\n')
	// One Write per line, under a lock, so lines from concurrent requests never interleave.
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.W.Write(b); err != nil {
		return fmt.Errorf("write emf line: %w", err)
	}
	return nil
}
