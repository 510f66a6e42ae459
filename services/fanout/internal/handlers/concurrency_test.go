package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/lambdatest"
	"github.com/go-serverless/reference/shared/logging"
)

// waitFor bounds every wait in these tests: a record that never gets company fails its test
// instead of hanging it.
const waitFor = 5 * time.Second

// subtaskBatch is an SQS event of items, one message each (m-0, m-1, ...), each in a correlation
// chain of its own (chain-0, chain-1, ...).
func subtaskBatch(t *testing.T, items ...fanout.Item) events.SQSEvent {
	t.Helper()
	var e events.SQSEvent
	for i, item := range items {
		body, err := json.Marshal(fanout.Subtask{BatchID: batchID, Item: item})
		if err != nil {
			t.Fatal(err)
		}
		chain := fmt.Sprintf("chain-%d", i)
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

func items(n int) []fanout.Item {
	out := make([]fanout.Item, n)
	for i := range out {
		out[i] = fanout.Item{ID: fmt.Sprintf("item-%d", i)}
	}
	return out
}

// gauge counts calls in flight and remembers the most there ever were.
type gauge struct {
	mu                      sync.Mutex
	inFlight, most, entered int
}

func (g *gauge) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight++
	g.entered++
	g.most = max(g.most, g.inFlight)
}

func (g *gauge) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
}

// await polls until cond holds (true) or waitFor has passed (false).
func (g *gauge) await(cond func(inFlight, entered int) bool) bool {
	for limit := time.Now().Add(waitFor); time.Now().Before(limit); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		ok := cond(g.inFlight, g.entered)
		g.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

func (g *gauge) max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// gaugedRecorder is a ResultRecorder that measures how many results are recorded at once.
type gaugedRecorder struct {
	gauge
	countingRecorder
}

func (r *gaugedRecorder) Record(ctx context.Context, batchID string, res fanout.SubtaskResult) (bool, error) {
	r.enter()
	defer r.leave()
	time.Sleep(5 * time.Millisecond) // long enough for a second recording to overlap, were one allowed
	return r.countingRecorder.Record(ctx, batchID, res)
}

func (r *gaugedRecorder) RecordAll(ctx context.Context, batchID string, results []fanout.SubtaskResult) error {
	r.enter()
	defer r.leave()
	time.Sleep(5 * time.Millisecond)
	return r.countingRecorder.RecordAll(ctx, batchID, results)
}

// TestProcessWorksABatchsRecordsSideBySide: each of the twenty items of a full batch waits, in its
// work, until all twenty have started. Worked one after another, the first would wait for ever; the
// test gives up after waitFor and fails instead. The results are still recorded one at a time.
func TestProcessWorksABatchsRecordsSideBySide(t *testing.T) {
	work := &gauge{}
	rec := &gaugedRecorder{}
	log, logs := lambdatest.CaptureLogger()
	h := Process{
		Subtasks: fanout.Worker{
			Joiner: fanout.Joiner{Results: rec, Sink: noSink{}, Now: time.Now, Log: log},
			Work: func(_ context.Context, item fanout.Item) (string, error) {
				work.enter()
				defer work.leave()
				if !work.await(func(_, entered int) bool { return entered == fanout.WorkerBatchSize }) {
					return "", fmt.Errorf("item %s: the batch's other records did not start within %s", item.ID, waitFor)
				}
				return "done", nil
			},
			Now:       time.Now,
			Recording: fanout.NewRecording(),
		},
		Concurrency: fanout.WorkerConcurrency,
		Log:         log,
	}
	ctx, cancel := context.WithTimeout(context.Background(), fanout.WorkerTimeout)
	defer cancel()
	resp, err := h.Handle(ctx, subtaskBatch(t, items(fanout.WorkerBatchSize)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 || rec.count() != fanout.WorkerBatchSize {
		t.Fatalf("%d records failed, %d recorded; want 0 and %d\n%s",
			len(resp.BatchItemFailures), rec.count(), fanout.WorkerBatchSize, strings.Join(logs.Lines(), "\n"))
	}
	if got := work.max(); got != fanout.WorkerBatchSize {
		t.Errorf("at most %d items worked at once; want %d", got, fanout.WorkerBatchSize)
	}
	if got := rec.max(); got > fanout.WorkerRecordConcurrency {
		t.Errorf("%d results recorded at once; want at most %d (WorkerRecordConcurrency)", got, fanout.WorkerRecordConcurrency)
	}
}

// TestProcessKeepsToItsConcurrency: with a bound below the batch size, never more than that many
// records are in flight, and the bound is used: each item waits until the bound is reached (or no
// record is left to start), so an implementation that ran fewer at once fails too, and then stays
// a little longer, which gives one that let more in the time to show it.
func TestProcessKeepsToItsConcurrency(t *testing.T) {
	const records = 10
	for _, limit := range []int{1, 3, records} {
		t.Run(fmt.Sprintf("concurrency=%d", limit), func(t *testing.T) {
			work := &gauge{}
			rec := &countingRecorder{}
			h := Process{
				Subtasks: fanout.Worker{
					Joiner: fanout.Joiner{Results: rec, Sink: noSink{}, Now: time.Now, Log: lambdatest.QuietLogger()},
					Work: func(_ context.Context, item fanout.Item) (string, error) {
						work.enter()
						defer work.leave()
						if !work.await(func(inFlight, entered int) bool { return inFlight == limit || entered == records }) {
							return "", fmt.Errorf("item %s: fewer than %d records in flight for %s", item.ID, limit, waitFor)
						}
						time.Sleep(10 * time.Millisecond)
						return "done", nil
					},
					Now: time.Now,
				},
				Concurrency: limit,
				Log:         lambdatest.QuietLogger(),
			}
			resp, err := h.Handle(context.Background(), subtaskBatch(t, items(records)...))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 || rec.count() != records {
				t.Fatalf("%d records failed, %d recorded; want 0 and %d", len(resp.BatchItemFailures), rec.count(), records)
			}
			if got := work.max(); got != limit {
				t.Errorf("at most %d records in flight; want exactly %d", got, limit)
			}
		})
	}
}

// TestProcessSideBySideReportsEachRecord: records worked side by side keep what sqsbatch gives
// records worked one after another. Only the failed and handed-back records are reported, in the
// batch's order; a failure is one ERROR line and a hand-back one WARN line, each naming its
// message, in its record's own correlation chain.
func TestProcessSideBySideReportsEachRecord(t *testing.T) {
	event := subtaskBatch(t,
		fanout.Item{ID: "ok"},
		fanout.Item{ID: "fails", Fail: true},
		fanout.Item{ID: "too-long", DurationMS: int(fanout.MaxItemDuration.Milliseconds())},
		fanout.Item{ID: "ok-too", DurationMS: 1},
		fanout.Item{ID: "panics"},
	)
	event.Records = append(event.Records, events.SQSMessage{MessageId: "m-5", Body: "not json"})
	logs := &lambdatest.Logs{}
	log := slog.New(logging.NewHandler(slog.NewJSONHandler(logs, nil), slog.LevelInfo)) // as in Lambda: correlation IDs on every line
	rec := &countingRecorder{}
	h := Process{
		Subtasks: fanout.Worker{
			Joiner: fanout.Joiner{Results: rec, Sink: noSink{}, Now: time.Now, Log: log},
			Work: func(ctx context.Context, item fanout.Item) (string, error) {
				if item.ID == "panics" {
					panic("poison item")
				}
				return fanout.Simulate(ctx, item)
			},
			Budget:    budget.Budget{Margin: fanout.WorkerMargin},
			Now:       time.Now,
			Recording: fanout.NewRecording(),
		},
		Budget:      budget.Budget{Margin: fanout.WorkerMargin},
		Concurrency: fanout.WorkerConcurrency,
		Log:         log,
	}
	// 3 s left, 1 s after the margin: too little for the longest item, enough for the rest.
	ctx, cancel := context.WithTimeout(context.Background(), fanout.WorkerMargin+time.Second)
	defer cancel()
	resp, err := h.Handle(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if want := []string{"m-1", "m-2", "m-4", "m-5"}; !slices.Equal(got, want) {
		t.Errorf("reported %v; want %v", got, want)
	}
	if rec.count() != 2 {
		t.Errorf("%d results recorded; want 2 (ok, ok-too)", rec.count())
	}
	want := map[string]struct{ level, msg, chain string }{
		"m-1": {"ERROR", "record failed", "chain-1"},
		"m-2": {"WARN", "record handed back", "chain-2"},
		"m-4": {"ERROR", "record failed", "chain-4"},
		"m-5": {"ERROR", "record failed", ""},
	}
	seen := map[string]int{}
	for _, line := range logs.Lines() {
		var l struct {
			Level, Msg, MessageID, CorrelationID string
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		if l.Level != "ERROR" && l.Msg != "record handed back" {
			continue
		}
		seen[l.MessageID]++
		w, ok := want[l.MessageID]
		if !ok || l.Level != w.level || l.Msg != w.msg || (w.chain != "" && l.CorrelationID != w.chain) {
			t.Errorf("log line %s; want for its message %+v", line, w)
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("message %s has %d lines; want one", id, seen[id])
		}
	}
}
