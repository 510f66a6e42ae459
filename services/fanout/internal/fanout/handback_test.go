package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// stepClock is a clock the simulated work moves forward.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingResults is a ResultRecorder that counts what it records.
type countingResults struct {
	mu       sync.Mutex
	recorded []string
}

func (r *countingResults) Record(_ context.Context, _ string, res SubtaskResult) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recorded = append(r.recorded, res.ItemID)
	return false, nil
}

func (r *countingResults) RecordAll(_ context.Context, _ string, results []SubtaskResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range results {
		r.recorded = append(r.recorded, res.ItemID)
	}
	return nil
}

func (r *countingResults) Get(context.Context, string) (Batch, error) { return Batch{}, ErrNotFound }

// subtaskEvent is an SQS batch of n subtasks of durationMS each, every message in the
// correlation chain of the batch that sent it, as SubmitBatchFunction sends them.
func subtaskEvent(t *testing.T, n, durationMS int) events.SQSEvent {
	t.Helper()
	chain := "submit-chain"
	var e events.SQSEvent
	for i := range n {
		body, err := json.Marshal(Subtask{BatchID: batchID, Item: Item{ID: fmt.Sprintf("item-%d", i), DurationMS: durationMS}})
		if err != nil {
			t.Fatal(err)
		}
		e.Records = append(e.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m-%d", i), Body: string(body),
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:FanoutTasksQueue",
			MessageAttributes: map[string]events.SQSMessageAttribute{
				correlation.AttributeCorrelationID: {DataType: "String", StringValue: &chain},
			},
		})
	}
	return e
}

// TestWorkerBatchNeverDropsARecordSilently reproduces the silence of issue 11: an unfaulted batch
// of subtasks whose records were received, not run, and came back a visibility timeout later
// with no line about them. It happens when the invocation's time budget is spent before a record
// starts (sqsbatch hands the rest back unstarted). Every record must end processed, or handed
// back with a WARN line naming its message, in its batch's correlation chain.
func TestWorkerBatchNeverDropsARecordSilently(t *testing.T) {
	tests := []struct {
		name string
		// budgetLeft is the time the invocation has when the batch arrives, after the margin.
		budgetLeft time.Duration
		wantRun    int
	}{
		// 5 items of 5 s use the 25 s exactly: the rest of the batch finds no time left at all.
		{name: "budget spent part-way", budgetLeft: 25 * time.Second, wantRun: 5},
		{name: "budget spent before the first record", budgetLeft: 0, wantRun: 0},
		// 3 s left: not enough for a 5 s item, which the worker hands back unstarted.
		{name: "items that no longer fit", budgetLeft: 23 * time.Second, wantRun: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &stepClock{t: time.Now().Add(time.Hour)} // a deadline the test never reaches
			ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(WorkerMargin+tt.budgetLeft))
			defer cancel()
			b := budget.Budget{Margin: WorkerMargin, Now: clock.Now}
			results := &countingResults{}
			log, lines := newLog()
			w := Worker{
				Joiner: Joiner{Results: results, Now: clock.Now, Log: log},
				Work: func(_ context.Context, item Item) (string, error) {
					clock.Advance(time.Duration(item.DurationMS) * time.Millisecond)
					return "done", nil
				},
				Budget: b,
				Now:    clock.Now,
			}
			event := subtaskEvent(t, WorkerBatchSize, 5000)
			resp := sqsbatch.Process(ctx, log, correlation.Extractor{}, b, event, func(ctx context.Context, msg events.SQSMessage) error {
				var task Subtask
				if err := json.Unmarshal([]byte(msg.Body), &task); err != nil {
					return err
				}
				return w.Process(ctx, task)
			})

			if len(results.recorded) != tt.wantRun || len(resp.BatchItemFailures) != WorkerBatchSize-tt.wantRun {
				t.Fatalf("%d recorded, %d handed back; want %d and %d", len(results.recorded), len(resp.BatchItemFailures), tt.wantRun, WorkerBatchSize-tt.wantRun)
			}
			for _, f := range resp.BatchItemFailures {
				line := fmt.Sprintf(`"level":"WARN","msg":"record handed back","messageId":%q`, f.ItemIdentifier)
				if lines.count(line) != 1 {
					t.Errorf("message %s handed back with %d lines %s; want one", f.ItemIdentifier, lines.count(line), line)
				}
			}
			if n := lines.count(`"msg":"record handed back"`); n != lines.count(`"msg":"record handed back","messageId"`) || n != len(resp.BatchItemFailures) {
				t.Errorf("%d hand-back lines for %d records handed back; want one each", n, len(resp.BatchItemFailures))
			}
			if n := lines.count(`"correlationId":"submit-chain"`); n < len(resp.BatchItemFailures) {
				t.Errorf("%d lines in the batch's correlation chain; want at least one per record handed back (%d)", n, len(resp.BatchItemFailures))
			}
			if lines.count(`"level":"ERROR"`) != 0 {
				t.Errorf("an unfaulted batch logged an ERROR; a hand-back is a WARN")
			}
			if t.Failed() {
				lines.mu.Lock()
				t.Log(strings.TrimSpace(lines.buf.String()))
				lines.mu.Unlock()
			}
		})
	}
}
