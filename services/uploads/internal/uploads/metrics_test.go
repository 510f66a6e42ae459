package uploads

import (
	"context"
	"maps"
	"sync"
	"testing"

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

func TestVerifyCountsEachDecisionOnce(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want map[string]float64
	}{
		{"accepted", pngBytes, map[string]float64{MetricAccepted: 1}},
		{"rejected", []byte("just some text here, not an image at all"), map[string]float64{MetricRejected: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := pendingUpload(tt.body)
			var calls []string
			objects := newMemObjects(&calls)
			m := &fakeMetrics{}
			v := Verifier{Store: newMemStore(u), Objects: objects, Now: fixedNow, Log: quietLog(), Metrics: m}
			for range 2 { // the notification, then a duplicate of it after the client's retried PUT
				objects.put(u.Key, "image/png", tt.body)
				if _, err := v.Verify(context.Background(), u.Key); err != nil {
					t.Fatal(err)
				}
			}
			if !maps.Equal(m.sums, tt.want) {
				t.Errorf("metrics = %v; want %v", m.sums, tt.want)
			}
		})
	}
}
