package ledger

import "github.com/go-serverless/reference/shared/metrics"

// Namespace is the CloudWatch namespace of the ledger metrics (dimension Service=ledger).
const Namespace = "GoServerless/Ledger"

// The business metrics of the pattern.
const (
	// MetricEventsAppended counts events appended by a command (an Open or a Move).
	MetricEventsAppended = "EventsAppended"
	// MetricAppendConflicts counts appends that lost the optimistic-lock race: the version was taken.
	MetricAppendConflicts = "AppendConflicts"
	// MetricAppendRetries counts the re-read, re-decide and append again that follow a lost race.
	MetricAppendRetries = "AppendRetries"
	// MetricItemsReadPerRebuild is, per account state rebuilt, the snapshot and event items read
	// (unit Count; its average and maximum show whether snapshots keep reads short).
	MetricItemsReadPerRebuild = "ItemsReadPerRebuild"
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
