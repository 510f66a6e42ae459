package fanout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/budget"
)

func newJoiner(t *testing.T, total int) (Joiner, DynamoStore, *fakeSink) {
	t.Helper()
	s := newDynamoStore(t)
	mustCreate(t, s, runningBatch(batchID, total))
	sink := &fakeSink{}
	log, _ := newLog()
	return Joiner{Results: s, Sink: sink, Now: func() time.Time { return t0 }, Log: log}, s, sink
}

func TestJoinTriggersSinkOnceForLastSubtask(t *testing.T) {
	ctx := context.Background()
	j, s, sink := newJoiner(t, 3)
	for _, r := range []SubtaskResult{done("a"), done("a"), failed("b"), done("c")} {
		if err := j.Join(ctx, batchID, r); err != nil {
			t.Fatalf("Join(%s): %v", r.ItemID, err)
		}
		if r.ItemID != "c" && sink.count() != 0 {
			t.Fatalf("sink triggered after %s, before the last subtask", r.ItemID)
		}
	}
	if sink.count() != 1 {
		t.Fatalf("sink triggered %d times; want 1", sink.count())
	}
	if b := mustGet(t, s, batchID); b.Completed != 2 || b.Failed != 1 || b.Status != StatusAggregating {
		t.Errorf("batch completed %d failed %d %s; want 2 1 AGGREGATING", b.Completed, b.Failed, b.Status)
	}
}

// TestJoinSurvivesCrashBeforeSinkSend: the last subtask's transaction commits, then the send to the
// sink fails (as if the worker died there). The message is not acknowledged, comes back, finds its
// result recorded, and the sink is triggered then: never zero times.
func TestJoinSurvivesCrashBeforeSinkSend(t *testing.T) {
	ctx := context.Background()
	j, _, sink := newJoiner(t, 1)
	sink.failNext = 1
	if err := j.Join(ctx, batchID, done("a")); err == nil {
		t.Fatal("Join with a failing sink = nil; want an error so the message is delivered again")
	}
	if sink.count() != 0 {
		t.Fatalf("sink got %d messages; want 0 so far", sink.count())
	}
	if err := j.Join(ctx, batchID, done("a")); err != nil {
		t.Fatalf("redelivered Join: %v", err)
	}
	if sink.count() != 1 {
		t.Fatalf("sink triggered %d times after the redelivery; want 1", sink.count())
	}
}

func TestJoinDuplicateAfterFinishDoesNothing(t *testing.T) {
	ctx := context.Background()
	j, s, sink := newJoiner(t, 1)
	if err := j.Join(ctx, batchID, done("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, batchID, StatusSucceeded, Result{Succeeded: 1}, t0); err != nil {
		t.Fatal(err)
	}
	if err := j.Join(ctx, batchID, done("a")); err != nil {
		t.Fatalf("late duplicate: %v", err)
	}
	if sink.count() != 1 {
		t.Errorf("sink triggered %d times; want 1 (a duplicate after the batch finished sends nothing)", sink.count())
	}
}

// TestJoinTwoWorkersFinishTogether runs many rounds of two workers recording a batch's last two
// subtasks at the same moment, through the whole Join path: exactly one sink message per batch.
func TestJoinTwoWorkersFinishTogether(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	sink := &fakeSink{}
	log, _ := newLog()
	j := Joiner{Results: s, Sink: sink, Now: func() time.Time { return t0 }, Log: log}
	const rounds = 30
	for round := range rounds {
		id := fmt.Sprintf("%032x", 1000+round)
		mustCreate(t, s, runningBatch(id, 2))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, item := range []string{"x", "y"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := j.Join(ctx, id, done(item)); err != nil {
					t.Errorf("Join: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if got := sink.count(); got != round+1 {
			t.Fatalf("after round %d the sink has %d messages; want %d (one per batch)", round, got, round+1)
		}
	}
}

func TestWorkerProcess(t *testing.T) {
	ctx := context.Background()
	j, s, sink := newJoiner(t, 2)
	w := Worker{Joiner: j, Work: Simulate, Now: func() time.Time { return t0 }}
	if err := w.Process(ctx, Subtask{BatchID: batchID, Item: Item{ID: "ok", DurationMS: 1}}); err != nil {
		t.Fatalf("Process(ok): %v", err)
	}
	err := w.Process(ctx, Subtask{BatchID: batchID, Item: Item{ID: "bad", Fail: true}})
	if !errors.Is(err, ErrItemFailed) {
		t.Fatalf("Process(fail) = %v; want ErrItemFailed so the message is retried", err)
	}
	if b := mustGet(t, s, batchID); b.Completed != 1 || b.Failed != 0 || b.Remaining != 1 {
		t.Errorf("batch completed %d failed %d remaining %d; want 1 0 1 (a failing attempt records nothing)", b.Completed, b.Failed, b.Remaining)
	}
	// The message went to the dead-letter queue; its consumer records it failed and the batch completes.
	rec := FailureRecorder{Joiner: j, MaxAttempts: 3, Now: func() time.Time { return t0 }}
	if err := rec.Record(ctx, Subtask{BatchID: batchID, Item: Item{ID: "bad", Fail: true}}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	b := mustGet(t, s, batchID)
	if b.Completed != 1 || b.Failed != 1 || b.Status != StatusAggregating || sink.count() != 1 {
		t.Errorf("batch completed %d failed %d %s, sink %d; want 1 1 AGGREGATING, 1", b.Completed, b.Failed, b.Status, sink.count())
	}
	for _, bad := range []Subtask{{}, {BatchID: "nope", Item: Item{ID: "x"}}, {BatchID: batchID, Item: Item{ID: "a b"}}} {
		if err := w.Process(ctx, bad); err == nil {
			t.Errorf("Process(%+v) = nil; want an error", bad)
		}
		if err := rec.Record(ctx, bad); err == nil {
			t.Errorf("Record(%+v) = nil; want an error", bad)
		}
	}
}

// TestWorkerHandsBackItemThatCannotFit: an item whose declared duration is more than the budget
// has left is not started (its work would be cut off half-way); one that fits runs and is recorded.
func TestWorkerHandsBackItemThatCannotFit(t *testing.T) {
	j, s, _ := newJoiner(t, 2)
	var started []string
	w := Worker{
		Joiner: j,
		Work: func(_ context.Context, item Item) (string, error) {
			started = append(started, item.ID)
			return "processed " + item.ID, nil
		},
		Budget: budget.Budget{Margin: WorkerMargin},
		Now:    func() time.Time { return t0 },
	}
	// About 3 s left before the deadline, 1 s after the margin.
	ctx, cancel := context.WithTimeout(context.Background(), WorkerMargin+time.Second+2*time.Second)
	defer cancel()
	tests := []struct {
		item    Item
		wantErr error
	}{
		{Item{ID: "long", DurationMS: int(MaxItemDuration.Milliseconds())}, ErrNoTimeForItem},
		{Item{ID: "short", DurationMS: 1}, nil},
	}
	for _, tt := range tests {
		err := w.Process(ctx, Subtask{BatchID: batchID, Item: tt.item})
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("Process(%s) = %v; want %v", tt.item.ID, err, tt.wantErr)
		}
	}
	if len(started) != 1 || started[0] != "short" {
		t.Errorf("started %v; want only short (long handed back unstarted)", started)
	}
	if b := mustGet(t, s, batchID); b.Completed != 1 || b.Remaining != 1 {
		t.Errorf("batch completed %d remaining %d; want 1 1", b.Completed, b.Remaining)
	}
}

// TestWorkerTimeoutHoldsTheLongestItemAndTheRecording: the sum WorkerTimeout is derived from.
func TestWorkerTimeoutHoldsTheLongestItemAndTheRecording(t *testing.T) {
	const transaction = 20 * time.Millisecond // a TransactWriteItems on AWS, uncontended
	recording := DefaultConflictPatience + budget.DefaultCallTimeout + (WorkerBatchSize+1)*transaction
	if need := MaxItemDuration + recording + WorkerMargin; need > WorkerTimeout {
		t.Errorf("the longest item (%s), the recording (%s) and the margin (%s) need %s; WorkerTimeout is %s",
			MaxItemDuration, recording, WorkerMargin, need, WorkerTimeout)
	}
}

// TestWorkerSizingMatchesTemplate: the sizing the code relies on is the one deployed.
// ProcessSubtaskFunction's Timeout, BatchSize and MaximumConcurrency in template.yaml must be
// WorkerTimeout, WorkerBatchSize and WorkerMaxConcurrency, and its queue's VisibilityTimeout (in
// Mappings) 6 × that Timeout.
func TestWorkerSizingMatchesTemplate(t *testing.T) {
	got := templatePaths(t)
	events := "Resources/ProcessSubtaskFunction/Properties/Events/FanoutTasksQueue/Properties/"
	want := map[string]string{
		"Resources/ProcessSubtaskFunction/Properties/Timeout": strconv.Itoa(int(WorkerTimeout.Seconds())),
		events + "BatchSize":                           strconv.Itoa(WorkerBatchSize),
		events + "ScalingConfig/MaximumConcurrency":    strconv.Itoa(WorkerMaxConcurrency),
		"Mappings/Fanout/TasksQueue/VisibilityTimeout": strconv.Itoa(6 * int(WorkerTimeout.Seconds())),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("template.yaml %s = %q; want %q", k, got[k], v)
		}
	}
}
