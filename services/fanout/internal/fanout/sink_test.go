package fanout

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func finishedBatch(t *testing.T, results ...SubtaskResult) (Aggregator, DynamoStore, *logBuffer) {
	t.Helper()
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, len(results)))
	for _, r := range results {
		if _, err := s.Record(context.Background(), batchID, r); err != nil {
			t.Fatal(err)
		}
	}
	log, lines := newLog()
	return Aggregator{Results: s, Now: func() time.Time { return t0.Add(time.Minute) }, Log: log}, s, lines
}

func TestAggregateSucceeded(t *testing.T) {
	a, s, lines := finishedBatch(t, done("a"), done("b"))
	if err := a.Aggregate(context.Background(), batchID); err != nil {
		t.Fatal(err)
	}
	b := mustGet(t, s, batchID)
	if b.Status != StatusSucceeded || b.Result == nil || b.Result.Succeeded != 2 || b.Result.WorkMS != 6 || len(b.Result.FailedItems) != 0 {
		t.Fatalf("batch = %s %+v; want SUCCEEDED, 2 succeeded, 6 ms of work", b.Status, b.Result)
	}
	if n := lines.count(`"batch aggregated"`); n != 1 {
		t.Errorf("%d 'batch aggregated' lines; want 1", n)
	}
}

func TestAggregateListsFailedItems(t *testing.T) {
	a, s, _ := finishedBatch(t, done("a"), failed("b"), done("c"))
	if err := a.Aggregate(context.Background(), batchID); err != nil {
		t.Fatal(err)
	}
	b := mustGet(t, s, batchID)
	if b.Status != StatusCompletedWithErrors || b.Result.Succeeded != 2 || b.Result.Failed != 1 ||
		len(b.Result.FailedItems) != 1 || b.Result.FailedItems[0].ID != "b" || b.Result.FailedItems[0].Reason != "retries exhausted" {
		t.Fatalf("batch = %s %+v; want COMPLETED_WITH_ERRORS listing b", b.Status, b.Result)
	}
}

func TestAggregateTruncatesFailedItemsList(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,001 items")
	}
	results := make([]SubtaskResult, MaxFailedItemsListed+1)
	for i := range results {
		results[i] = failed(fmt.Sprintf("f-%04d", i))
	}
	a, s, _ := finishedBatch(t, results...)
	if err := a.Aggregate(context.Background(), batchID); err != nil {
		t.Fatal(err)
	}
	b := mustGet(t, s, batchID)
	if b.Result.Failed != MaxFailedItemsListed+1 || len(b.Result.FailedItems) != MaxFailedItemsListed || !b.Result.FailedItemsTruncated {
		t.Errorf("result failed %d, listed %d, truncated %v; want %d, %d, true",
			b.Result.Failed, len(b.Result.FailedItems), b.Result.FailedItemsTruncated, MaxFailedItemsListed+1, MaxFailedItemsListed)
	}
}

// TestAggregateIsIdempotent: sink messages for the same batch, concurrently and after it finished,
// aggregate it once; only the run whose final write won logs "batch aggregated".
func TestAggregateIsIdempotent(t *testing.T) {
	a, s, lines := finishedBatch(t, done("a"), failed("b"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Aggregate(context.Background(), batchID); err != nil {
				t.Errorf("Aggregate: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := a.Aggregate(context.Background(), batchID); err != nil {
		t.Fatal(err)
	}
	if n := lines.count(`"batch aggregated"`); n != 1 {
		t.Errorf("%d 'batch aggregated' lines for 5 sink runs; want 1", n)
	}
	if b := mustGet(t, s, batchID); b.Status != StatusCompletedWithErrors {
		t.Errorf("status = %s; want COMPLETED_WITH_ERRORS", b.Status)
	}
}

func TestAggregateIgnoresRunningBatch(t *testing.T) {
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, 2))
	log, lines := newLog()
	a := Aggregator{Results: s, Now: time.Now, Log: log}
	if err := a.Aggregate(context.Background(), batchID); err != nil {
		t.Fatal(err)
	}
	if b := mustGet(t, s, batchID); b.Status != StatusRunning || lines.count(`"batch aggregated"`) != 0 {
		t.Errorf("status %s; want a RUNNING batch left alone", b.Status)
	}
}
