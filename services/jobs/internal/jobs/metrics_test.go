package jobs

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/metrics/metricstest"
)

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
			m := &metricstest.Recorder{}
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
			if !maps.Equal(m.Sums(), tt.want) {
				t.Errorf("metrics = %v; want %v", m.Sums(), tt.want)
			}
		})
	}
}

func TestSubmitAndPollCount(t *testing.T) {
	m := &metricstest.Recorder{}
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
	if want := map[string]float64{MetricSubmitted: 1, MetricTimedOut: 1}; !maps.Equal(m.Sums(), want) {
		t.Errorf("metrics = %v; want %v", m.Sums(), want)
	}
}
