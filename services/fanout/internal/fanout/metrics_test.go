package fanout

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/metrics/metricstest"
)

func TestJoinCountsEachResultOnce(t *testing.T) {
	ctx := context.Background()
	j, _, _ := newJoiner(t, 5)
	m := &metricstest.Recorder{}
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
	if want := map[string]float64{MetricSubtasksJoined: 4, MetricSubtasksFailed: 2}; !maps.Equal(m.Sums(), want) {
		t.Errorf("metrics = %v; want %v", m.Sums(), want)
	}
}

func TestAggregateRecordsBatchDurationOnce(t *testing.T) {
	a, _, _ := finishedBatch(t, done("a"), failed("b"))
	m := &metricstest.Recorder{}
	a.Metrics = m
	for range 2 { // the second run finds the batch finished
		if err := a.Aggregate(context.Background(), batchID); err != nil {
			t.Fatal(err)
		}
	}
	b := runningBatch(batchID, 2)
	want := float64(t0.Add(time.Minute).Sub(b.StartedAt).Milliseconds())
	if got := m.Sums(); !maps.Equal(got, map[string]float64{MetricBatchDuration: want}) {
		t.Errorf("metrics = %v; want %s %v once", got, MetricBatchDuration, want)
	}
}
