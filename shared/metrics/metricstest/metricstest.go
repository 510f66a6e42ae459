// Package metricstest records the metrics a service's code adds, for its tests: the fake behind
// each service's consumer-defined Metrics interface (Add(name, unit, v)), in one place.
package metricstest

import (
	"maps"
	"sync"

	"github.com/go-serverless/reference/shared/metrics"
)

// Recorder sums the values added to each metric and counts them. Its zero value is ready, and it
// is safe for concurrent use, as a metrics.Collector is.
type Recorder struct {
	mu     sync.Mutex
	sums   map[string]float64
	counts map[string]int
}

// Add records v for name; the unit is not kept.
func (r *Recorder) Add(name string, _ metrics.Unit, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sums == nil {
		r.sums, r.counts = map[string]float64{}, map[string]int{}
	}
	r.sums[name] += v
	r.counts[name]++
}

// Sums is a copy of the sum of each metric's values, by name; empty when nothing was added.
func (r *Recorder) Sums() map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := maps.Clone(r.sums)
	if out == nil {
		out = map[string]float64{}
	}
	return out
}

// Values is how many values were added to name.
func (r *Recorder) Values(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[name]
}
