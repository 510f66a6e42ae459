package imports

import "github.com/go-serverless/reference/shared/metrics"

// Namespace is the CloudWatch namespace of the imports metrics (dimension Service=imports).
const Namespace = "GoServerless/Imports"

// The business metrics of the pattern, each a Count recorded when a checkpoint commits or a hop
// claims its import, so a duplicated or stale link counts nothing.
const (
	// MetricLinesImported counts lines stored as orders (over a period, the import rate).
	MetricLinesImported = "LinesImported"
	// MetricLinesRejected counts lines refused with a reason.
	MetricLinesRejected = "LinesRejected"
	// MetricHops counts invocations of the chain that claimed their import: one per hop.
	MetricHops = "ImportHops"
)

// Metrics records business metrics; *metrics.Collector is one, flushed once per invocation.
type Metrics interface {
	Add(name string, unit metrics.Unit, v float64)
}

// add adds v to name, in unit Count, when m is set.
func add(m Metrics, name string, v float64) {
	if m != nil {
		m.Add(name, metrics.Count, v)
	}
}
