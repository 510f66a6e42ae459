package canary

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/metrics"
)

// Namespace is the CloudWatch namespace of the pricing metrics.
const Namespace = "GoServerless/Pricing"

// The metrics of one request, dimensioned by Service and Engine.
const (
	MetricLatency  = "Latency"
	MetricErrors   = "Errors"
	MetricRequests = "Requests"
)

// Recorder writes one EMF line per request to W (the function's stdout, which Lambda sends to
// its log group), through shared/metrics. Make one with NewRecorder; the zero value has no lock
// and is not usable.
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

// Record writes s as one EMF line. The engine is a dimension, so each sample gets a collector of
// its own: one request, one line, whatever else the invocation records.
func (r Recorder) Record(s Sample) error {
	c := metrics.New(r.W, Namespace,
		metrics.Dimension{Name: "Service", Value: r.Service},
		metrics.Dimension{Name: "Engine", Value: string(s.Engine)})
	c.Now = r.Now
	c.Add(MetricLatency, metrics.Milliseconds, float64(s.Latency.Microseconds())/1000)
	errs := 0.0
	if s.Failed {
		errs = 1
	}
	c.Add(MetricErrors, metrics.Count, errs)
	c.Add(MetricRequests, metrics.Count, 1)
	if s.Route != "" {
		c.Property("Route", s.Route)
	}
	// One line at a time, so lines from concurrent requests never interleave whatever W is.
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := c.Flush(); err != nil {
		return fmt.Errorf("record %s sample: %w", s.Engine, err)
	}
	return nil
}
