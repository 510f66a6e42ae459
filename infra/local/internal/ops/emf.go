package ops

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// maxEMFValues is the most values one metric may carry in one EMF line; CloudWatch rejects more.
const maxEMFValues = 100

// Write reads function log lines as the runner's pool writes them ("[<function>] <line>", one or
// more whole lines per call) and records the metrics of every line in CloudWatch's embedded metric
// format. Other lines are ignored. It never fails, so that it can sit beside the terminal in an
// io.MultiWriter.
func (c *Collector) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		_, rest, ok := bytes.Cut(line, []byte("] "))
		if !ok || !bytes.HasPrefix(line, []byte("[")) {
			continue
		}
		points := parseEMF(bytes.TrimSpace(rest))
		if len(points) == 0 {
			continue
		}
		c.mu.Lock()
		for _, pt := range points {
			m, ok := c.metrics[pt.key]
			if !ok {
				m = &metricStats{min: math.Inf(1), max: math.Inf(-1)}
				c.metrics[pt.key] = m
			}
			m.add(pt.unit, pt.values)
		}
		c.mu.Unlock()
	}
	return len(p), nil
}

// metricKey identifies one metric as CloudWatch stores it: namespace, name and dimension values.
type metricKey struct {
	namespace, name string
	// dimensions is "Name=value,Name=value" in the order the directive lists them.
	dimensions string
}

type metricStats struct {
	unit          string
	count         int
	sum, min, max float64
}

func (m *metricStats) add(unit string, values []float64) {
	m.unit = unit
	for _, v := range values {
		m.count++
		m.sum += v
		m.min = min(m.min, v)
		m.max = max(m.max, v)
	}
}

// Metric is one EMF metric's statistics over the run, as CloudWatch's SampleCount, Sum, Minimum
// and Maximum would show them.
type Metric struct {
	Namespace  string  `json:"namespace"`
	Name       string  `json:"name"`
	Dimensions string  `json:"dimensions"`
	Unit       string  `json:"unit"`
	Count      int     `json:"count"`
	Sum        float64 `json:"sum"`
	Min        float64 `json:"min"`
	Max        float64 `json:"max"`
}

func (m *metricStats) export(k metricKey) Metric {
	return Metric{Namespace: k.namespace, Name: k.name, Dimensions: k.dimensions, Unit: m.unit, Count: m.count, Sum: m.sum, Min: m.min, Max: m.max}
}

func (m Metric) less(o Metric) bool {
	return strings.Join([]string{m.Namespace, m.Name, m.Dimensions}, "\x00") < strings.Join([]string{o.Namespace, o.Name, o.Dimensions}, "\x00")
}

// point is one metric's values from one EMF line.
type point struct {
	key    metricKey
	unit   string
	values []float64
}

// emfRoot is the "_aws" member of an EMF line.
type emfRoot struct {
	Timestamp         *int64 `json:"Timestamp"`
	CloudWatchMetrics []struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []struct {
			Name string `json:"Name"`
			Unit string `json:"Unit"`
		} `json:"Metrics"`
	} `json:"CloudWatchMetrics"`
}

// parseEMF returns the metrics of line if it is an EMF document, following the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// a JSON object whose "_aws" member has a Timestamp and CloudWatchMetrics directives; each
// directive names a namespace, dimension sets and metrics, whose values (a number or an array of
// at most 100 numbers) and dimension values (strings) are members of the root object. A metric
// gets one point per dimension set (one with no dimensions when the directive lists none). What
// CloudWatch would reject — a missing timestamp or namespace, a dimension without a string value,
// a metric without numbers — records nothing for that directive.
func parseEMF(line []byte) []point {
	if len(line) == 0 || line[0] != '{' {
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(line, &doc); err != nil {
		return nil
	}
	raw, ok := doc["_aws"]
	if !ok {
		return nil
	}
	var root emfRoot
	if err := json.Unmarshal(raw, &root); err != nil || root.Timestamp == nil {
		return nil
	}
	var points []point
	for _, d := range root.CloudWatchMetrics {
		if d.Namespace == "" {
			continue
		}
		sets, ok := dimensionSets(doc, d.Dimensions)
		if !ok {
			continue
		}
		var directive []point
		for _, m := range d.Metrics {
			values, ok := metricValues(doc[m.Name])
			if m.Name == "" || !ok {
				directive = nil
				break
			}
			for _, set := range sets {
				directive = append(directive, point{key: metricKey{namespace: d.Namespace, name: m.Name, dimensions: set}, unit: cmp.Or(m.Unit, "None"), values: values})
			}
		}
		points = append(points, directive...)
	}
	return points
}

// dimensionSets renders each dimension set as "Name=value,...", reporting false if a dimension
// has no string value in doc.
func dimensionSets(doc map[string]json.RawMessage, sets [][]string) ([]string, bool) {
	if len(sets) == 0 {
		return []string{""}, true
	}
	var out []string
	for _, set := range sets {
		parts := make([]string, 0, len(set))
		for _, name := range set {
			var v string
			if isNull(doc[name]) || json.Unmarshal(doc[name], &v) != nil {
				return nil, false
			}
			parts = append(parts, name+"="+v)
		}
		out = append(out, strings.Join(parts, ","))
	}
	return slices.Compact(out), true
}

// metricValues decodes a metric's member: a number, or an array of 1 to 100 numbers.
func metricValues(raw json.RawMessage) ([]float64, bool) {
	if isNull(raw) {
		return nil, false
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, true
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > maxEMFValues {
		return nil, false
	}
	return many, true
}

// isNull reports whether a member is absent or JSON null, which would decode into a zero value.
func isNull(raw json.RawMessage) bool {
	return raw == nil || string(bytes.TrimSpace(raw)) == "null"
}
