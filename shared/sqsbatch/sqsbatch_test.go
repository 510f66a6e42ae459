package sqsbatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/logging"
)

// batch returns an event with one record per ID, from queue arn. Record
// "c2" carries correlation attributes; the others carry none.
func batch(arn string, ids ...string) events.SQSEvent {
	var e events.SQSEvent
	for _, id := range ids {
		msg := events.SQSMessage{MessageId: id, Body: "body-" + id, EventSourceARN: arn}
		if id == "c2" {
			cid, sampled := "chain-2", "true"
			msg.MessageAttributes = map[string]events.SQSMessageAttribute{
				correlation.AttributeCorrelationID: {DataType: "String", StringValue: &cid},
				correlation.AttributeDebugSampled:  {DataType: "String", StringValue: &sampled},
			}
		}
		e.Records = append(e.Records, msg)
	}
	return e
}

const (
	standardARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
	fifoARN     = "arn:aws:sqs:us-east-1:123456789012:ledger.fifo"
)

var ex = correlation.Extractor{NewID: func() string { return "new-chain" }}

func failures(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func newLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(logging.NewHandler(slog.NewJSONHandler(&buf, nil), slog.LevelInfo)), &buf
}

func TestProcess(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name         string
		event        events.SQSEvent
		failOn       string
		panicOn      string
		wantRan      []string
		wantFailures []string
	}{
		{"all succeed", batch(standardARN, "a", "b", "c"), "", "", []string{"a", "b", "c"}, []string{}},
		{"one fails, rest run", batch(standardARN, "a", "b", "c"), "b", "", []string{"a", "b", "c"}, []string{"b"}},
		{"panic fails one record", batch(standardARN, "a", "b", "c"), "", "a", []string{"a", "b", "c"}, []string{"a"}},
		{"FIFO stops at a failure", batch(fifoARN, "a", "b", "c", "d"), "b", "", []string{"a", "b"}, []string{"b", "c", "d"}},
		{"FIFO failure on last record", batch(fifoARN, "a", "b"), "b", "", []string{"a", "b"}, []string{"b"}},
		{"empty event", events.SQSEvent{}, "", "", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, _ := newLogger()
			var ran []string
			resp := Process(context.Background(), log, ex, budget.Budget{}, tt.event, func(ctx context.Context, msg events.SQSMessage) error {
				ran = append(ran, msg.MessageId)
				if msg.MessageId == tt.panicOn {
					panic("poison message")
				}
				if msg.MessageId == tt.failOn {
					return errBoom
				}
				return nil
			})
			if !reflect.DeepEqual(ran, tt.wantRan) {
				t.Errorf("ran %v, want %v", ran, tt.wantRan)
			}
			if got := failures(resp); !reflect.DeepEqual(got, tt.wantFailures) {
				t.Errorf("failures = %v, want %v", got, tt.wantFailures)
			}
		})
	}
}

func TestProcessEmptyResponseIsNotNull(t *testing.T) {
	log, _ := newLogger()
	resp := Process(context.Background(), log, ex, budget.Budget{}, batch(standardARN, "a"), func(context.Context, events.SQSMessage) error { return nil })
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"batchItemFailures":[]}`; got != want {
		t.Errorf("response = %s, want %s", got, want)
	}
}

func TestProcessLogsFailureOnce(t *testing.T) {
	log, buf := newLogger()
	Process(context.Background(), log, ex, budget.Budget{}, batch(standardARN, "a", "c2"), func(_ context.Context, msg events.SQSMessage) error {
		if msg.MessageId == "c2" {
			return errors.New("charge card: declined")
		}
		return nil
	})
	// c2's chain is sampled, so it also logs at DEBUG; count the errors.
	var errorLines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		if line["level"] == "ERROR" {
			errorLines = append(errorLines, line)
		}
	}
	if len(errorLines) != 1 {
		t.Fatalf("logged %d errors, want 1:\n%s", len(errorLines), buf)
	}
	line := errorLines[0]
	want := map[string]any{"level": "ERROR", "messageId": "c2", "error": "charge card: declined", "correlationId": "chain-2"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
}

func TestProcessCorrelationPerRecord(t *testing.T) {
	log, _ := newLogger()
	got := map[string]correlation.IDs{}
	Process(context.Background(), log, ex, budget.Budget{}, batch(standardARN, "a", "c2"), func(ctx context.Context, msg events.SQSMessage) error {
		got[msg.MessageId], _ = correlation.FromContext(ctx)
		return nil
	})
	want := map[string]correlation.IDs{
		"a":  {CorrelationID: "new-chain"},
		"c2": {CorrelationID: "chain-2", DebugSampled: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IDs per record = %v, want %v", got, want)
	}
}

// stepClock is a clock that handlers move forward.
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

func TestProcessStopsWhenBudgetRunsOut(t *testing.T) {
	start := time.Now().Add(time.Hour) // a deadline the test never reaches
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(2500*time.Millisecond))
	defer cancel()
	clock := &stepClock{t: start}
	b := budget.Budget{Margin: time.Second, Now: clock.Now}

	log, buf := newLogger()
	var ran []string
	// Each record takes 1 s; 1.5 s of budget starts two of them.
	resp := Process(ctx, log, ex, b, batch(standardARN, "a", "b", "c", "d"), func(_ context.Context, msg events.SQSMessage) error {
		ran = append(ran, msg.MessageId)
		clock.Advance(time.Second)
		return nil
	})
	if want := []string{"a", "b"}; !reflect.DeepEqual(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	if got, want := failures(resp), []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %v, want %v", got, want)
	}
	if !strings.Contains(buf.String(), `"unstarted":2`) {
		t.Errorf("log = %s, want a warning with unstarted 2", buf)
	}
}

func TestProcessHandedBackIsWarning(t *testing.T) {
	log, buf := newLogger()
	resp := Process(context.Background(), log, ex, budget.Budget{}, batch(standardARN, "a", "b"), func(_ context.Context, msg events.SQSMessage) error {
		if msg.MessageId == "b" {
			return fmt.Errorf("item b does not fit: %w", ErrRetryLater)
		}
		return nil
	})
	if got := failures(resp); !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("failures = %v; want [b]: a handed-back record is redelivered like a failed one", got)
	}
	if strings.Contains(buf.String(), `"level":"ERROR"`) || !strings.Contains(buf.String(), `"level":"WARN"`) {
		t.Errorf("log = %s; want the hand-back at WARN and no ERROR", buf)
	}
}

// logLines returns the JSON lines of buf at level.
func logLines(t *testing.T, buf *bytes.Buffer, level string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		if line["level"] == level {
			lines = append(lines, line)
		}
	}
	return lines
}

// handedBack returns, by message id, the reason of every "record handed back" line.
func handedBack(t *testing.T, buf *bytes.Buffer) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range logLines(t, buf, "WARN") {
		if line["msg"] != "record handed back" {
			continue
		}
		id, _ := line["messageId"].(string)
		reason, _ := line["reason"].(string)
		got[id] = reason
	}
	return got
}

// TestProcessLogsEveryRecordItHandsBack: a record reported for redelivery without running is
// named in a line of its own, with the reason, in its own correlation chain: a received record
// is either processed or its hand-back is logged, never silently returned to the queue.
func TestProcessLogsEveryRecordItHandsBack(t *testing.T) {
	ids := []string{"a", "b", "c2", "d", "e", "f", "g", "h", "i", "j"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	spent, cancelSpent := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	defer cancelSpent()
	tests := []struct {
		name       string
		ctx        context.Context
		b          budget.Budget
		event      events.SQSEvent
		failOn     string
		wantRan    int
		wantReason string
	}{
		{name: "time budget spent before the first record", ctx: spent, b: budget.Budget{Margin: 2 * time.Hour},
			event: batch(standardARN, ids...), wantReason: "time budget"},
		{name: "context already cancelled", ctx: cancelled,
			event: batch(standardARN, ids...), wantReason: "context canceled"},
		{name: "FIFO records after a failure", ctx: context.Background(), failOn: "a",
			event: batch(fifoARN, ids...), wantRan: 1, wantReason: "FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newLogger()
			ran := 0
			resp := Process(tt.ctx, log, ex, tt.b, tt.event, func(_ context.Context, msg events.SQSMessage) error {
				ran++
				if msg.MessageId == tt.failOn {
					return errors.New("boom")
				}
				return nil
			})
			if ran != tt.wantRan || len(resp.BatchItemFailures) != len(ids) {
				t.Fatalf("ran %d, %d failures; want %d run and all %d reported", ran, len(resp.BatchItemFailures), tt.wantRan, len(ids))
			}
			got := handedBack(t, buf)
			for _, id := range ids[tt.wantRan:] {
				if !strings.Contains(got[id], tt.wantReason) {
					t.Errorf("hand-back of %s logged with reason %q; want a WARN line naming it, with a reason about %q\n%s", id, got[id], tt.wantReason, buf)
				}
			}
			for _, line := range logLines(t, buf, "WARN") {
				if line["messageId"] == "c2" && line["correlationId"] != "chain-2" {
					t.Errorf("hand-back of c2 logged in chain %v; want its own chain-2, so following the chain finds it", line["correlationId"])
				}
			}
		})
	}
}
