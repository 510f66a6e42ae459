package template

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// metric names one CloudWatch metric of one resource: the namespace, the metric name, and the
// dimension that names the resource, whose value must refer to id (!Ref id, or !GetAtt id.attr
// when attr is set).
type metric struct {
	namespace, name, dimension, id, attr string
}

func (m metric) String() string {
	v := "!Ref " + m.id
	if m.attr != "" {
		v = "!GetAtt " + m.id + "." + m.attr
	}
	return fmt.Sprintf("%s %s with dimension %s %s", m.namespace, m.name, m.dimension, v)
}

// matches reports whether namespace, name and dimensions (an alarm's, or one MetricStat.Metric's)
// are those of m. The dimensions must be the ones AWS publishes the metric with: m's, and for an
// HTTP API also Stage $default (the stage SAM creates). Any other dimension, or another stage,
// names a metric that is never published, and an alarm on it would never fire.
func (m metric) matches(namespace, name string, dimensions template.Value) bool {
	if namespace != m.namespace || name != m.name {
		return false
	}
	found := false
	for _, d := range asList(dimensions) {
		switch dn := stringAt(d, "Name"); {
		case dn == m.dimension:
			v, _ := lookup(d, "Value")
			found = found || m.refersTo(v)
		case dn == "Stage" && m.namespace == "AWS/ApiGateway" && stringAt(d, "Value") == "$default":
			// APIsAreAlarmed reports an API alarm without it.
		default:
			return false
		}
	}
	return found
}

// refersTo reports whether v is !Ref m.id (or !GetAtt m.id.attr when m has an attr).
func (m metric) refersTo(v template.Value) bool {
	if m.attr == "" {
		id, ok := refOf(v)
		return ok && id == m.id
	}
	id, attr, ok := getAttOf(v)
	return ok && id == m.id && attr == m.attr
}

// watches reports whether alarm a watches m: as its own metric, or as a MetricStat of its metric
// math (rateGuarded says whether that math is the rate a rule wants).
func watches(a template.Resource, m metric) bool {
	if m.matches(stringAt(a.Properties, "Namespace"), stringAt(a.Properties, "MetricName"), a.Properties["Dimensions"]) {
		return true
	}
	for _, q := range asList(a.Properties["Metrics"]) {
		if m.matches(stringAt(q, "MetricStat", "Metric", "Namespace"), stringAt(q, "MetricStat", "Metric", "MetricName"), valueAt(q, "MetricStat", "Metric", "Dimensions")) {
			return true
		}
	}
	return false
}

// valueAt is lookup without its ok: nil where v has nothing at keys.
func valueAt(v template.Value, keys ...string) template.Value {
	r, _ := lookup(v, keys...)
	return r
}

// rateGuarded reports whether alarm a's metric math returns (ReturnData not false) a rate of m (the
// errors) over per (the requests), written IF(<per> > 0, 100 * <m> / <per>, 0), so an idle period
// reads 0, not a division by zero.
func rateGuarded(a template.Resource, m, per metric) bool {
	ids := map[string]string{}
	for _, q := range asList(a.Properties["Metrics"]) {
		ns, name := stringAt(q, "MetricStat", "Metric", "Namespace"), stringAt(q, "MetricStat", "Metric", "MetricName")
		dims := valueAt(q, "MetricStat", "Metric", "Dimensions")
		switch {
		case m.matches(ns, name, dims):
			ids["m"] = stringAt(q, "Id")
		case per.matches(ns, name, dims):
			ids["per"] = stringAt(q, "Id")
		}
	}
	if ids["m"] == "" || ids["per"] == "" {
		return false
	}
	want := fmt.Sprintf("IF(%s > 0, 100 * %s / %s, 0)", ids["per"], ids["m"], ids["per"])
	for _, q := range asList(a.Properties["Metrics"]) {
		returned := valueAt(q, "ReturnData")
		if stringAt(q, "Expression") == want && returned != false && returned != "false" {
			return true
		}
	}
	return false
}

// settings are what README.md's "Operating it" table promises of one kind of alarm: the statistic
// (Sum, Maximum, or an ExtendedStatistic such as p99; Sum for each metric of a rate), the period in
// seconds, how many periods it evaluates, its threshold (GreaterThanThreshold) and TreatMissingData.
type settings struct {
	stat      string
	period    int
	periods   int
	threshold int
	missing   string
	// because says how a derived threshold is made.
	because string
}

// settingsProblems compares alarm a with want.
func settingsProblems(t *template.Template, subject string, a template.Resource, want settings) []string {
	var out []string
	differs := func(what string, got template.Value, want any) {
		if show(got) != show(want) {
			out = append(out, fmt.Sprintf("%s: alarm %s has %s %s, want %v", subject, a.LogicalID, what, show(got), want))
		}
	}
	number := func(v template.Value) template.Value {
		if n, err := intOf(t, v); err == nil {
			return n
		}
		return v
	}
	stats := []template.Value{}
	periods := []template.Value{}
	if ms := asList(a.Properties["Metrics"]); len(ms) > 0 {
		for _, q := range ms {
			if _, ok := lookup(q, "MetricStat"); ok {
				stats = append(stats, valueAt(q, "MetricStat", "Stat"))
				periods = append(periods, number(valueAt(q, "MetricStat", "Period")))
			}
		}
	} else {
		stat := a.Properties["Statistic"]
		if ext, ok := a.Properties["ExtendedStatistic"]; ok {
			stat = ext
		}
		stats = append(stats, stat)
		periods = append(periods, number(a.Properties["Period"]))
	}
	for i := range stats {
		differs("statistic", stats[i], want.stat)
		differs("Period", periods[i], want.period)
	}
	differs("EvaluationPeriods", number(a.Properties["EvaluationPeriods"]), want.periods)
	if got := number(a.Properties["Threshold"]); show(got) != show(want.threshold) {
		w := fmt.Sprint(want.threshold)
		if want.because != "" {
			w = fmt.Sprintf("%s = %d", want.because, want.threshold)
		}
		out = append(out, fmt.Sprintf("%s: alarm %s has Threshold %s, want %s", subject, a.LogicalID, show(got), w))
	}
	differs("ComparisonOperator", a.Properties["ComparisonOperator"], "GreaterThanThreshold")
	differs("TreatMissingData", a.Properties["TreatMissingData"], want.missing)
	return out
}

// alarmProblems checks that subject has an alarm that watches m (and, when per is set, alarms on
// the rate m / per, guarded) with AlarmActions and a TreatMissingData of its own, with the settings
// want; it returns the alarms that qualify and the violations.
func alarmProblems(t *template.Template, subject, why string, m metric, per *metric, want settings) (alarms []template.Resource, out []string) {
	var watching []string
	for _, a := range t.OfType(typeAlarm) {
		if !watches(a, m) {
			continue
		}
		if per != nil && !rateGuarded(a, m, *per) {
			continue
		}
		watching = append(watching, a.LogicalID)
		switch {
		case isEmpty(a.Properties["AlarmActions"]):
			out = append(out, fmt.Sprintf("%s: %s is watched by %s, which has no AlarmActions", subject, why, a.LogicalID))
		case isEmpty(a.Properties["TreatMissingData"]):
			out = append(out, fmt.Sprintf("%s: %s is watched by %s, which does not set TreatMissingData", subject, why, a.LogicalID))
		default:
			alarms = append(alarms, a)
			out = append(out, settingsProblems(t, subject, a, want)...)
		}
	}
	if len(watching) == 0 {
		what := m.String()
		if per != nil {
			what = fmt.Sprintf("the rate IF(%s > 0, 100 * %s / %s, 0) of %s over %s %s", "<"+per.name+" id>", "<"+m.name+" id>", "<"+per.name+" id>", m, per.namespace, per.name)
		}
		out = append(out, fmt.Sprintf("%s: %s has no %s on %s", subject, why, typeAlarm, what))
	}
	return alarms, out
}

// The alarm settings README.md's "Operating it" table lists, kind by kind (the dead-letter queue
// alarms are DeadLetterQueuesAreAlarmed's). Thresholds that depend
// on the resource (a queue's age, an async function's event age) are derived where they are checked.
var (
	deadLetterAlarm        = settings{stat: "Maximum", period: 60, periods: 1, threshold: 0, missing: "notBreaching"}
	drainedDeadLetterAlarm = settings{stat: "Minimum", period: 300, periods: 3, threshold: 0, missing: "notBreaching"}
	errorRateAlarm         = settings{stat: "Sum", period: 300, periods: 1, threshold: 5, missing: "notBreaching"}
	throttlesAlarm         = settings{stat: "Sum", period: 300, periods: 1, threshold: 0, missing: "notBreaching"}
	droppedAlarm           = settings{stat: "Sum", period: 300, periods: 1, threshold: 0, missing: "notBreaching"}
	eventAgeAlarm          = settings{stat: "Maximum", period: 300, periods: 1, missing: "notBreaching"}
	api5xxAlarm            = settings{stat: "Sum", period: 300, periods: 1, threshold: 5, missing: "notBreaching"}
	latencyAlarm           = settings{stat: "p99", period: 300, periods: 3, threshold: 2000, missing: "notBreaching"}
	queueAgeAlarm          = settings{stat: "Maximum", period: 300, periods: 1, missing: "notBreaching"}
	iteratorAgeAlarm       = settings{stat: "Maximum", period: 300, periods: 1, threshold: 600000, missing: "notBreaching"}
)

// checkFunctionsAreAlarmed: every function has an alarm on its error rate (metric math: Errors /
// Invocations, guarded against idle periods) and one on its Throttles; a function invoked
// asynchronously (see asyncInvocations) or with an EventInvokeConfig also has alarms on
// AsyncEventAge and AsyncEventsDropped.
func checkFunctionsAreAlarmed(t *template.Template) []string {
	fns, out := functionsOf(t)
	async := asyncInvocations(t, fns)
	for _, f := range fns {
		lambda := func(name string) metric { return metric{"AWS/Lambda", name, "FunctionName", f.LogicalID, ""} }
		invocations := lambda("Invocations")
		_, p := alarmProblems(t, f.LogicalID, "function", lambda("Errors"), &invocations, errorRateAlarm)
		out = append(out, p...)
		_, p = alarmProblems(t, f.LogicalID, "function", lambda("Throttles"), nil, throttlesAlarm)
		out = append(out, p...)
		_, hasConfig := f.Properties["EventInvokeConfig"]
		if _, ok := async[f.LogicalID]; !ok && !hasConfig {
			continue
		}
		age, err := asyncEventAgeLimit(t, f)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", f.LogicalID, err))
			continue
		}
		_, p = alarmProblems(t, f.LogicalID, "function invoked asynchronously", lambda("AsyncEventAge"), nil, age)
		out = append(out, p...)
		_, p = alarmProblems(t, f.LogicalID, "function invoked asynchronously", lambda("AsyncEventsDropped"), nil, droppedAlarm)
		out = append(out, p...)
	}
	return out
}

// asyncEventAgeLimit derives an async function's AsyncEventAge threshold (milliseconds): Lambda
// waits 1 minute before the first retry and 2 before the second, so an event retried r times
// (EventInvokeConfig.MaximumRetryAttempts, 2 when absent) is at most 60 × r(r+1)/2 seconds of
// waits plus (r+1) × Timeout of attempts old; an event older than that waited for concurrency.
func asyncEventAgeLimit(t *template.Template, f template.Function) (settings, error) {
	retries := 2
	if v, ok := lookup(f.Properties, "EventInvokeConfig", "MaximumRetryAttempts"); ok {
		n, err := intOf(t, v)
		if err != nil {
			return settings{}, fmt.Errorf("EventInvokeConfig.MaximumRetryAttempts: %w", err)
		}
		retries = n
	}
	timeout := 3 // Lambda's default
	if v, ok := f.Properties["Timeout"]; ok {
		n, err := intOf(t, v)
		if err != nil {
			return settings{}, fmt.Errorf("Timeout: %w", err)
		}
		timeout = n
	}
	s := eventAgeAlarm
	s.threshold = (60*retries*(retries+1)/2 + (retries+1)*timeout) * 1000
	s.because = fmt.Sprintf("60 s × %d(%d+1)/2 of retry waits + (%d+1) × Timeout (%d s), in ms", retries, retries, retries, timeout)
	return s, nil
}

// checkAPIsAreAlarmed: every HttpApi has an alarm on its 5xx rate (metric math: 5xx / Count,
// guarded) and one on its p99 Latency, both on the dimensions ApiId and Stage.
func checkAPIsAreAlarmed(t *template.Template) []string {
	var out []string
	for _, api := range t.OfType(typeHTTPAPI) {
		gw := func(name string) metric { return metric{"AWS/ApiGateway", name, "ApiId", api.LogicalID, ""} }
		count := gw("Count")
		_, p := alarmProblems(t, api.LogicalID, "HttpApi", gw("5xx"), &count, api5xxAlarm)
		out = append(out, p...)
		_, p = alarmProblems(t, api.LogicalID, "HttpApi", gw("Latency"), nil, latencyAlarm)
		out = append(out, p...)
		for _, a := range t.OfType(typeAlarm) {
			if (watches(a, gw("5xx")) || watches(a, gw("Latency"))) && !hasStageDimension(a) {
				out = append(out, fmt.Sprintf("%s: alarm %s has no Stage dimension, and an HTTP API's metrics are published per ApiId and Stage", api.LogicalID, a.LogicalID))
			}
		}
	}
	return out
}

// hasStageDimension reports whether alarm a (or each MetricStat of its metric math) names a Stage.
func hasStageDimension(a template.Resource) bool {
	dimensionSets := []template.Value{}
	if d, ok := a.Properties["Dimensions"]; ok {
		dimensionSets = append(dimensionSets, d)
	}
	for _, q := range asList(a.Properties["Metrics"]) {
		if d, ok := lookup(q, "MetricStat", "Metric", "Dimensions"); ok {
			dimensionSets = append(dimensionSets, d)
		}
	}
	for _, dims := range dimensionSets {
		found := false
		for _, d := range asList(dims) {
			found = found || stringAt(d, "Name") == "Stage"
		}
		if !found {
			return false
		}
	}
	return len(dimensionSets) > 0
}

// checkQueuesAreAlarmed: every queue that feeds a function has an alarm on
// ApproximateAgeOfOldestMessage whose Threshold (seconds) is maxReceiveCount × VisibilityTimeout:
// a message its consumers keep failing leaves for the dead-letter queue by then, so one older than
// that has not been received often enough, and the consumers are behind or stopped.
func checkQueuesAreAlarmed(t *template.Template) []string {
	queues, out := queueConsumers(t)
	for _, q := range sortedKeys(queues) {
		props := t.Resources[q].Properties
		visibility := 30 // SQS's default
		if v, ok := props["VisibilityTimeout"]; ok {
			n, err := intOf(t, v)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: VisibilityTimeout: %v", q, err))
				continue
			}
			visibility = n
		}
		receives := 1 // without a RedrivePolicy (FedQueuesHaveDeadLetterQueues' fault), one receive
		if v, ok := lookup(props, "RedrivePolicy", "maxReceiveCount"); ok {
			n, err := intOf(t, v)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: RedrivePolicy.maxReceiveCount: %v", q, err))
				continue
			}
			receives = n
		}
		want := queueAgeAlarm
		want.threshold = receives * visibility
		want.because = fmt.Sprintf("maxReceiveCount (%d) × VisibilityTimeout (%d)", receives, visibility)
		_, p := alarmProblems(t, q, "queue feeding "+names(queues[q]), metric{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q, "QueueName"}, nil, want)
		out = append(out, p...)
	}
	return out
}

// names lists the functions' logical IDs.
func names(fns []template.Function) string {
	var ids []string
	for _, f := range fns {
		ids = append(ids, f.LogicalID)
	}
	return strings.Join(ids, ", ")
}

// checkStreamsAreAlarmed: every function fed by a DynamoDB or Kinesis stream has an alarm on its
// IteratorAge: how far behind the stream its consumer reads.
func checkStreamsAreAlarmed(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		var streams []string
		for _, e := range f.Events {
			if slices.Contains([]string{"DynamoDB", "Kinesis"}, e.Type) {
				streams = append(streams, e.Type+" event "+e.Name)
			}
		}
		if len(streams) == 0 {
			continue
		}
		_, p := alarmProblems(t, f.LogicalID, "function fed by a stream ("+strings.Join(streams, ", ")+")", metric{"AWS/Lambda", "IteratorAge", "FunctionName", f.LogicalID, ""}, nil, iteratorAgeAlarm)
		out = append(out, p...)
	}
	return out
}
