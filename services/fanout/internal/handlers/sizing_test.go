package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// countingRecorder records every result it is given and never finishes a batch.
type countingRecorder struct {
	mu       sync.Mutex
	recorded int
}

func (c *countingRecorder) Record(context.Context, string, fanout.SubtaskResult) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recorded++
	return false, nil
}

func (c *countingRecorder) RecordAll(_ context.Context, _ string, results []fanout.SubtaskResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recorded += len(results)
	return nil
}

func (c *countingRecorder) Get(context.Context, string) (fanout.Batch, error) {
	return fanout.Batch{}, fanout.ErrNotFound
}

func (c *countingRecorder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recorded
}

type noSink struct{}

func (noSink) Send(context.Context, string) error { return nil }

// TestProcessFullBatchOfLongestItemsFits runs ProcessSubtaskFunction's handler on a full batch of
// the longest items allowed, with the production Timeout, BatchSize, concurrency and margin scaled
// down by the same factor: every item must be worked and recorded, none handed back. The Timeout
// holds one item and the recordings, not twenty items: worked one after another, as they were before,
// most of the batch cannot fit, and every delivery handed back counts toward maxReceiveCount, so a
// healthy item could reach the dead-letter queue.
func TestProcessFullBatchOfLongestItemsFits(t *testing.T) {
	const scale = 25 // 15 s → 600 ms, 5 s items → 200 ms, 2 s margin → 80 ms
	tests := []struct {
		name        string
		concurrency int
		wantHandled bool
	}{
		{"production sizing", fanout.WorkerConcurrency, true},
		{"records one after another", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var event events.SQSEvent
			for i := range fanout.WorkerBatchSize {
				body := fmt.Sprintf(`{"batchId":%q,"item":{"id":"item-%d","durationMs":%d}}`,
					batchID, i, (fanout.MaxItemDuration / scale).Milliseconds())
				event.Records = append(event.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: body})
			}
			rec := &countingRecorder{}
			margin := budget.Budget{Margin: fanout.WorkerMargin / scale}
			h := Process{
				Subtasks: fanout.Worker{
					Joiner:    fanout.Joiner{Results: rec, Sink: noSink{}, Now: time.Now, Log: lambdatest.QuietLogger()},
					Work:      fanout.Simulate,
					Budget:    margin,
					Now:       time.Now,
					Recording: fanout.NewRecording(),
				},
				Budget:      margin,
				Concurrency: tt.concurrency,
				Log:         lambdatest.QuietLogger(),
			}
			ctx, cancel := context.WithTimeout(context.Background(), fanout.WorkerTimeout/scale)
			defer cancel()
			resp, err := h.Handle(ctx, event)
			if err != nil {
				t.Fatal(err)
			}
			failures := len(resp.BatchItemFailures)
			if tt.wantHandled && (failures != 0 || rec.count() != fanout.WorkerBatchSize) {
				t.Errorf("%d records handed back, %d recorded; want 0 and %d", failures, rec.count(), fanout.WorkerBatchSize)
			}
			if !tt.wantHandled && failures == 0 {
				t.Errorf("no record handed back; want some: %d items of %s one after another cannot fit in %s",
					fanout.WorkerBatchSize, fanout.MaxItemDuration, fanout.WorkerTimeout)
			}
		})
	}
}

// TestProcessHandBackIsAWarning: an item handed back unstarted for lack of time is redelivered
// like a failure, but logged at WARN, so ERROR lines (and alarms on them) mean a real failure.
func TestProcessHandBackIsAWarning(t *testing.T) {
	body := fmt.Sprintf(`{"batchId":%q,"item":{"id":"long","durationMs":%d}}`, batchID, fanout.MaxItemDuration.Milliseconds())
	log, logs := lambdatest.CaptureLogger()
	rec := &countingRecorder{}
	h := Process{
		Subtasks: fanout.Worker{
			Joiner: fanout.Joiner{Results: rec, Sink: noSink{}, Now: time.Now, Log: log},
			Work:   fanout.Simulate,
			Now:    time.Now,
		},
		Log: log,
	}
	// One second left: far too little for the longest item, so it is never started.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || rec.count() != 0 {
		t.Fatalf("%d handed back, %d recorded; want the item handed back unstarted", len(resp.BatchItemFailures), rec.count())
	}
	var warned bool
	for _, line := range logs.Lines() {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("hand-back logged as an error: %s", line)
		}
		warned = warned || strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "record handed back")
	}
	if !warned {
		t.Errorf("no WARN line for the hand-back; logs:\n%s", strings.Join(logs.Lines(), "\n"))
	}
}
