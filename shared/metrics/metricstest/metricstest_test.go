package metricstest

import (
	"maps"
	"sync"
	"testing"

	"github.com/go-serverless/reference/shared/metrics"
)

func TestRecorderSumsAndCountsConcurrentAdds(t *testing.T) {
	var r Recorder
	if got := r.Sums(); len(got) != 0 {
		t.Fatalf("zero Recorder sums = %v; want none", got)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r.Add("Lines", metrics.Count, 2)
			r.Add("Duration", metrics.Milliseconds, 0.5)
		})
	}
	wg.Wait()
	if want := map[string]float64{"Lines": 100, "Duration": 25}; !maps.Equal(r.Sums(), want) {
		t.Errorf("sums = %v; want %v", r.Sums(), want)
	}
	if n := r.Values("Lines"); n != 50 {
		t.Errorf("values of Lines = %d; want 50", n)
	}
	r.Sums()["Lines"] = 0 // a copy: changing it changes nothing recorded
	if got := r.Sums()["Lines"]; got != 100 {
		t.Errorf("Lines after changing a copy = %v; want 100", got)
	}
}
