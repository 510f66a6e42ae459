package jobs

import "github.com/go-serverless/reference/shared/metrics"

// Namespace is the CloudWatch namespace of the jobs metrics (dimension Service=jobs).
const Namespace = "GoServerless/Jobs"

// The business metrics of the pattern, each a Count recorded where the job changes status.
const (
	MetricSubmitted = "JobsSubmitted" // a job was recorded and queued
	MetricSucceeded = "JobsSucceeded" // the worker recorded SUCCEEDED
	MetricFailed    = "JobsFailed"    // the worker recorded FAILED (task failed, or retries exhausted)
	MetricTimedOut  = "JobsTimedOut"  // the worker or a poll recorded TIMED_OUT
)

// Metrics records business metrics; *metrics.Collector is one, flushed once per invocation.
type Metrics interface {
	Add(name string, unit metrics.Unit, v float64)
}

// count adds 1 to name when m is set, so a struct's Metrics may be left unset.
func count(m Metrics, name string) {
	if m != nil {
		m.Add(name, metrics.Count, 1)
	}
}
