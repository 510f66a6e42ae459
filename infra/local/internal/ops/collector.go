package ops

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// sampleSize bounds the durations kept per function for its percentiles: the most recent ones,
// so that a long run holds a fixed amount of memory and its percentiles follow recent traffic.
const sampleSize = 1024

// Collector accumulates the signals. It is safe for concurrent use; the zero value is not: use New.
type Collector struct {
	now func() time.Time

	mu        sync.Mutex
	started   time.Time
	functions map[string]*functionStats
	queues    map[string]*queueStats
	metrics   map[metricKey]*metricStats
	faults    map[string]int
}

type functionStats struct {
	invocations, errors, coldStarts, throttles int
	// durations is a ring of the last sampleSize durations; next is where the next one goes.
	durations []time.Duration
	next      int
}

type queueStats struct {
	visible, inFlight int
	polled            bool
	// oldestAge is the age of the oldest message in the last batch received from the queue.
	oldestAge time.Duration
	received  int
}

// New returns an empty collector that reads the time from now (time.Now when nil).
func New(now func() time.Time) *Collector {
	if now == nil {
		now = time.Now
	}
	return &Collector{
		now:       now,
		started:   now(),
		functions: map[string]*functionStats{},
		queues:    map[string]*queueStats{},
		metrics:   map[metricKey]*metricStats{},
		faults:    map[string]int{},
	}
}

// Invoked records an invocation that reached the function: how long it ran, whether it was the
// first of a new execution environment, and whether it failed (an error it returned, a panic, a
// timeout or a crash).
func (c *Collector) Invoked(function string, d time.Duration, cold, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.function(function)
	f.invocations++
	if cold {
		f.coldStarts++
	}
	if failed {
		f.errors++
	}
	if len(f.durations) < sampleSize {
		f.durations = append(f.durations, d)
	} else {
		f.durations[f.next] = d
	}
	f.next = (f.next + 1) % sampleSize
}

// Throttled records an invocation refused because the function was at its concurrency limit.
func (c *Collector) Throttled(function string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.function(function).throttles++
}

// FaultInjected records one fault the runner injected (package faults), by kind.
func (c *Collector) FaultInjected(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[kind]++
}

// QueueDepth records a queue's approximate numbers of visible and in-flight messages.
func (c *Collector) QueueDepth(queue string, visible, inFlight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue(queue)
	q.visible, q.inFlight, q.polled = visible, inFlight, true
}

// QueueReceived records a batch received from a queue and the age of its oldest message.
func (c *Collector) QueueReceived(queue string, messages int, oldest time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue(queue)
	q.received += messages
	q.oldestAge = oldest
}

func (c *Collector) function(name string) *functionStats {
	f, ok := c.functions[name]
	if !ok {
		f = &functionStats{}
		c.functions[name] = f
	}
	return f
}

// queue returns the stats of a queue named by its name or ARN (arn:aws:sqs:region:account:name).
func (c *Collector) queue(name string) *queueStats {
	name = name[strings.LastIndexByte(name, ':')+1:]
	q, ok := c.queues[name]
	if !ok {
		q = &queueStats{}
		c.queues[name] = q
	}
	return q
}

// Snapshot is what the collector holds at one moment; it is the page's data.json.
type Snapshot struct {
	// Since is when collection started; At is when the snapshot was taken.
	Since     time.Time  `json:"since"`
	At        time.Time  `json:"at"`
	Functions []Function `json:"functions"`
	Queues    []Queue    `json:"queues"`
	Metrics   []Metric   `json:"metrics"`
	// Faults are the faults injected so far, by kind (empty unless the run has faults on).
	Faults []Fault `json:"faults"`
}

// Fault is how many faults of one kind were injected.
type Fault struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// Function is one function's signals, as Lambda's CloudWatch metrics name them.
type Function struct {
	Name        string  `json:"name"`
	Invocations int     `json:"invocations"`
	Errors      int     `json:"errors"`
	Throttles   int     `json:"throttles"`
	ColdStarts  int     `json:"coldStarts"`
	P50Ms       float64 `json:"p50Ms"`
	P99Ms       float64 `json:"p99Ms"`
}

// Queue is one queue's signals. Depth is polled from the stand-in (nil until the first poll);
// the oldest message's age is measured on the last batch an event source received.
type Queue struct {
	Name        string `json:"name"`
	Visible     *int   `json:"visible"`
	InFlight    *int   `json:"inFlight"`
	Received    int    `json:"received"`
	OldestAgeMs int64  `json:"oldestAgeMs"`
}

// Snapshot returns the signals, each list sorted by name.
func (c *Collector) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{Since: c.started, At: c.now(), Functions: []Function{}, Queues: []Queue{}, Metrics: []Metric{}, Faults: []Fault{}}
	for name, f := range c.functions {
		s.Functions = append(s.Functions, Function{
			Name: name, Invocations: f.invocations, Errors: f.errors, Throttles: f.throttles, ColdStarts: f.coldStarts,
			P50Ms: milliseconds(percentile(f.durations, 50)), P99Ms: milliseconds(percentile(f.durations, 99)),
		})
	}
	for name, q := range c.queues {
		out := Queue{Name: name, Received: q.received, OldestAgeMs: q.oldestAge.Milliseconds()}
		if q.polled {
			out.Visible, out.InFlight = new(q.visible), new(q.inFlight)
		}
		s.Queues = append(s.Queues, out)
	}
	for k, m := range c.metrics {
		s.Metrics = append(s.Metrics, m.export(k))
	}
	for kind, n := range c.faults {
		s.Faults = append(s.Faults, Fault{Kind: kind, Count: n})
	}
	sort.Slice(s.Faults, func(i, j int) bool { return s.Faults[i].Kind < s.Faults[j].Kind })
	sort.Slice(s.Functions, func(i, j int) bool { return s.Functions[i].Name < s.Functions[j].Name })
	sort.Slice(s.Queues, func(i, j int) bool { return s.Queues[i].Name < s.Queues[j].Name })
	sort.Slice(s.Metrics, func(i, j int) bool { return s.Metrics[i].less(s.Metrics[j]) })
	return s
}

// percentile returns the nearest-rank p-th percentile of ds (the smallest value at least p% of
// the sample is at or below), 0 for an empty sample.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
