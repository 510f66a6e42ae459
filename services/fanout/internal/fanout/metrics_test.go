package fanout

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/metrics"
)

// fakeMetrics sums what is added, by metric name.
type fakeMetrics struct {
	mu   sync.Mutex
	sums map[string]float64
}

func (f *fakeMetrics) Add(name string, _ metrics.Unit, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sums == nil {
		f.sums = map[string]float64{}
	}
	f.sums[name] += v
}

func TestJoinCountsEachResultOnce(t *testing.T) {
	ctx := context.Background()
	j, _, _ := newJoiner(t, 5)
	m := &fakeMetrics{}
	j.Metrics = m
	// a twice (a redelivery), b failed; then c and d together.
	for _, r := range []SubtaskResult{done("a"), done("a"), failed("b")} {
		if err := j.Join(ctx, batchID, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.JoinAll(ctx, batchID, []SubtaskResult{done("c"), failed("d")}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{MetricSubtasksJoined: 4, MetricSubtasksFailed: 2}; !maps.Equal(m.sums, want) {
		t.Errorf("metrics = %v; want %v", m.sums, want)
	}
}

func TestAggregateRecordsBatchDurationOnce(t *testing.T) {
	a, _, _ := finishedBatch(t, done("a"), failed("b"))
	m := &fakeMetrics{}
	a.Metrics = m
	for range 2 { // the second run finds the batch finished
		if err := a.Aggregate(context.Background(), batchID); err != nil {
			t.Fatal(err)
		}
	}
	b := runningBatch(batchID, 2)
	want := float64(t0.Add(time.Minute).Sub(b.StartedAt).Milliseconds())
	if got := m.sums; !maps.Equal(got, map[string]float64{MetricBatchDuration: want}) {
		t.Errorf("metrics = %v; want %s %v once", got, MetricBatchDuration, want)
	}
}
