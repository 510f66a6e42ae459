package imports

import (
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/go-serverless/reference/shared/metrics/metricstest"
)

func TestChainCountsLinesAndHops(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, _ := ordersFile(390)
	body += strings.Repeat("not json\n", 10)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	m := &metricstest.Recorder{}
	c.proc.Metrics = m
	imp := c.start(store, obj)
	c.drain()
	if got := get(t, store, imp.ID); got.Status != StatusSucceeded {
		t.Fatalf("import %s; want SUCCEEDED", got.Status)
	}
	if c.runs < 2 {
		t.Fatalf("%d invocations; the test needs a chain of several", c.runs)
	}
	// A stale copy of the first link claims nothing and counts nothing.
	if err := c.invoke(Link{ImportID: imp.ID}); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{MetricLinesImported: 390, MetricLinesRejected: 10, MetricHops: float64(c.runs - 1)}
	if !maps.Equal(m.Sums(), want) {
		t.Errorf("metrics = %v; want %v", m.Sums(), want)
	}
}

func TestDuplicatedLinksCountLinesOnce(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, _ := ordersFile(200)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	m := &metricstest.Recorder{}
	c.proc.Metrics = m
	c.start(store, obj)
	var wg sync.WaitGroup
	for {
		c.mu.Lock()
		links := c.pending
		c.pending = nil
		c.mu.Unlock()
		if len(links) == 0 {
			break
		}
		for _, link := range links {
			for range 2 {
				wg.Go(func() { c.invoke(link) })
			}
		}
		wg.Wait()
	}
	if got := m.Sums()[MetricLinesImported]; got != 200 {
		t.Errorf("%s = %v; want 200 however often a link is delivered", MetricLinesImported, got)
	}
}
