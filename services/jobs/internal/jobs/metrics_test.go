package jobs

import (
	"context"
	"errors"
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

func TestProcessCountsEachFinishedJobOnce(t *testing.T) {
	fail := func(context.Context, Input) (Result, error) { return Result{}, errors.New("downstream unavailable") }
	tests := []struct {
		name     string
		job      func() Job
		work     func(context.Context, Input) (Result, error)
		attempts int
		rival    bool // the poller records TIMED_OUT while the work runs
		want     map[string]float64
	}{
		{"succeeded", pendingJob, succeed, 1, false, map[string]float64{MetricSucceeded: 1}},
		{"task failed", func() Job { j := pendingJob(); j.Input.Outcome = OutcomeFail; return j }, Simulate, 1, false, map[string]float64{MetricFailed: 1}},
		{"retries exhausted", pendingJob, fail, 3, false, map[string]float64{MetricFailed: 1}},
		{"past its deadline", func() Job { j := pendingJob(); j.Deadline = t0; return j }, succeed, 1, false, map[string]float64{MetricTimedOut: 1}},
		{"lost to the poller", pendingJob, succeed, 1, true, map[string]float64{}},
		{"redelivered after success", pendingJob, succeed, 2, false, map[string]float64{MetricSucceeded: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProcessor(t, tt.job(), tt.work)
			m := &fakeMetrics{sums: map[string]float64{}}
			f.p.Metrics = m
			if tt.rival {
				f.store.beforeFinish = func(s *memStore) {
					s.mu.Lock()
					defer s.mu.Unlock()
					j := s.jobs[jobID]
					j.Status = StatusTimedOut
					s.jobs[jobID] = j
				}
			}
			for attempt := 1; attempt <= tt.attempts; attempt++ {
				f.p.Process(context.Background(), Task{JobID: jobID}, attempt)
			}
			if !maps.Equal(m.sums, tt.want) {
				t.Errorf("metrics = %v; want %v", m.sums, tt.want)
			}
		})
	}
}

func TestSubmitAndPollCount(t *testing.T) {
	m := &fakeMetrics{}
	s := newSubmitter(newMemStore(), &fakeQueue{})
	s.Metrics = m
	if _, err := s.Submit(context.Background(), "alice", Input{Task: "resize", DurationMS: 10}, "", ""); err != nil {
		t.Fatal(err)
	}
	s.Submit(context.Background(), "alice", Input{}, "", "") // invalid: not counted

	job := pendingJob()
	job.Deadline = t0
	r := Reader{Jobs: newMemStore(job), Now: func() time.Time { return t0.Add(time.Second) }, Metrics: m}
	r.Get(context.Background(), "alice", jobID)
	r.Get(context.Background(), "alice", jobID) // already TIMED_OUT: not counted again
	if want := map[string]float64{MetricSubmitted: 1, MetricTimedOut: 1}; !maps.Equal(m.sums, want) {
		t.Errorf("metrics = %v; want %v", m.sums, want)
	}
}
