package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// Unit is a CloudWatch metric unit, spelt as EMF expects it.
type Unit string

// The units the services use (CloudWatch accepts more; see StandardUnit in its API reference).
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
	Bytes        Unit = "Bytes"
	None         Unit = "None"
)

// Limits of the EMF specification: metrics per directive, values per metric, dimensions per set.
const (
	MaxMetrics    = 100
	MaxValues     = 100
	MaxDimensions = 30
)

// Dimension is a name and value that identify a metric, such as Service=jobs.
type Dimension struct {
	Name, Value string
}

// Collector gathers metric values until Flush writes them as EMF lines. It is safe for
// concurrent use (a batch's records may run side by side). Make one with New.
type Collector struct {
	w          io.Writer
	namespace  string
	dimensions []Dimension
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu         sync.Mutex
	order      []string
	units      map[string]Unit
	values     map[string][]float64
	properties map[string]any
}

// New returns a Collector writing to w (a function's stdout, which Lambda sends to its log
// group) under namespace, every metric with the given dimensions. It panics on more than
// MaxDimensions dimensions: that is a programming error, found by the first test that runs it.
func New(w io.Writer, namespace string, dims ...Dimension) *Collector {
	if len(dims) > MaxDimensions {
		panic(fmt.Sprintf("metrics: %d dimensions; EMF allows %d", len(dims), MaxDimensions))
	}
	return &Collector{w: w, namespace: namespace, dimensions: dims}
}

// Add records one value v of the metric name. Values of one name are kept in order and written
// together; the first Add of a name fixes its unit.
func (c *Collector) Add(name string, unit Unit, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.values == nil {
		c.units = map[string]Unit{}
		c.values = map[string][]float64{}
	}
	if _, ok := c.units[name]; !ok {
		c.order = append(c.order, name)
		c.units[name] = unit
	}
	c.values[name] = append(c.values[name], v)
}

// Count adds 1 to the metric name, in unit Count.
func (c *Collector) Count(name string) { c.Add(name, Count, 1) }

// Property adds key to the next line as a plain member: searchable in Logs Insights, not a metric.
func (c *Collector) Property(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.properties == nil {
		c.properties = map[string]any{}
	}
	c.properties[key] = v
}

// Flush writes what was added since the last Flush, one Write per line so concurrent writers to
// the same *os.File never interleave within a line, and starts over. It writes nothing when
// nothing was added.
func (c *Collector) Flush() error {
	c.mu.Lock()
	order, units, values, props := c.order, c.units, c.values, c.properties
	c.order, c.units, c.values, c.properties = nil, nil, nil, nil
	c.mu.Unlock()
	if len(order) == 0 {
		return nil
	}
	lines, err := encode(c.namespace, c.dimensions, clock.Now(c.Now), order, units, values, props)
	if err != nil {
		return err
	}
	for _, b := range lines {
		if _, err := c.w.Write(b); err != nil {
			return fmt.Errorf("write emf line: %w", err)
		}
	}
	return nil
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type directive struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// encode splits the values into lines of at most MaxMetrics metrics and MaxValues values each.
func encode(namespace string, dims []Dimension, at time.Time, order []string, units map[string]Unit, values map[string][]float64, props map[string]any) ([][]byte, error) {
	dimNames := make([]string, len(dims))
	for i, d := range dims {
		dimNames[i] = d.Name
	}
	var lines [][]byte
	for chunk := 0; ; chunk++ {
		var names []string
		for _, name := range order {
			if len(values[name]) > chunk*MaxValues {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return lines, nil
		}
		for len(names) > 0 {
			n := min(len(names), MaxMetrics)
			root := map[string]any{}
			for k, v := range props {
				root[k] = v
			}
			for _, d := range dims {
				root[d.Name] = d.Value
			}
			dir := directive{Namespace: namespace, Dimensions: [][]string{dimNames}}
			for _, name := range names[:n] {
				if _, taken := root[name]; taken || name == "_aws" {
					return nil, fmt.Errorf("encode emf line: metric %s has the name of a dimension or property", name)
				}
				vs := values[name][chunk*MaxValues:]
				vs = vs[:min(len(vs), MaxValues)]
				if len(vs) == 1 {
					root[name] = vs[0]
				} else {
					root[name] = vs
				}
				dir.Metrics = append(dir.Metrics, metricDefinition{Name: name, Unit: units[name]})
			}
			root["_aws"] = metadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: []directive{dir}}
			b, err := json.Marshal(root)
			if err != nil {
				return nil, fmt.Errorf("encode emf line: %w", err)
			}
			lines = append(lines, append(b, '\n'))
			names = names[n:]
		}
	}
}

// Flushed returns h wrapped so that c is flushed once after every invocation, whether h
// succeeded, failed or panicked (the flush is deferred: aws-lambda-go ends the process after a
// panic, and the invocation's values would be lost). A failed flush is logged, never turned into
// a failed invocation: losing a metric must not make Lambda retry work that was done.
func Flushed[In, Out any](c *Collector, log *slog.Logger, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		defer flush(ctx, c, log)
		return h(ctx, in)
	}
}

// FlushedErr is Flushed for handlers that return only an error (S3 notifications, async invokes).
func FlushedErr[In any](c *Collector, log *slog.Logger, h func(context.Context, In) error) func(context.Context, In) error {
	return func(ctx context.Context, in In) error {
		defer flush(ctx, c, log)
		return h(ctx, in)
	}
}

// flush flushes c, logging a failure.
func flush(ctx context.Context, c *Collector, log *slog.Logger) {
	if err := c.Flush(); err != nil {
		log.ErrorContext(ctx, "flush metrics", "error", err)
	}
}
