package uploads

import (
	"context"
	"maps"
	"testing"

	"github.com/go-serverless/reference/shared/metrics/metricstest"
)

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
			m := &metricstest.Recorder{}
			v := Verifier{Store: newMemStore(u), Objects: objects, Now: fixedNow, Log: quietLog(), Metrics: m}
			for range 2 { // the notification, then a duplicate of it after the client's retried PUT
				objects.put(u.Key, "image/png", tt.body)
				if _, err := v.Verify(context.Background(), u.Key); err != nil {
					t.Fatal(err)
				}
			}
			if !maps.Equal(m.Sums(), tt.want) {
				t.Errorf("metrics = %v; want %v", m.Sums(), tt.want)
			}
		})
	}
}
