package fanout

import "github.com/go-serverless/reference/shared/metrics"

// Namespace is the CloudWatch namespace of the fan-out metrics (dimension Service=fanout).
const Namespace = "GoServerless/Fanout"

// The business metrics of the pattern.
const (
	// MetricSubtasksJoined counts subtask results recorded into their batch's counters (the
	// fan-in rate), once each however often a subtask is delivered.
	MetricSubtasksJoined = "SubtasksJoined"
	// MetricSubtasksFailed counts the joined results that are failures (retries exhausted).
	MetricSubtasksFailed = "SubtasksFailed"
	// MetricBatchDuration is a finished batch's time from submission to its final status, in
	// Milliseconds, recorded by the sink run whose final write won.
	MetricBatchDuration = "BatchDuration"
)

// Metrics records business metrics; *metrics.Collector is one, flushed once per invocation.
type Metrics interface {
	Add(name string, unit metrics.Unit, v float64)
}

// countJoined counts results joined, and the failed among them, when m is set.
func countJoined(m Metrics, results ...SubtaskResult) {
	if m == nil {
		return
	}
	m.Add(MetricSubtasksJoined, metrics.Count, float64(len(results)))
	failed := 0
	for _, r := range results {
		if r.Status == SubtaskFailed {
			failed++
		}
	}
	if failed > 0 {
		m.Add(MetricSubtasksFailed, metrics.Count, float64(failed))
	}
}
