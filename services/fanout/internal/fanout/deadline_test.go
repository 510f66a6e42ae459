package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// simQueue is what decides when a message's retries are spent, SQS with a Lambda event source
// mapping in front, on a simulated clock: a message sent is visible at once; each receive hides it
// for the visibility timeout and counts; a message its consumer failed on MaxReceiveCount times
// moves to the dead-letter queue at the next receive, once its last visibility timeout has run out.
type simQueue struct {
	retries    QueueRetries
	deadLetter *simQueue // nil: a dead end (in the template, a dead-letter queue with an alarm)
	clock      *stepClock
	messages   []*simMessage
}

type simMessage struct {
	body      string
	visibleAt time.Time
	receives  int
}

// Send puts one message on the queue: the sink queue's SinkSender.
func (q *simQueue) Send(_ context.Context, body string) error {
	q.messages = append(q.messages, &simMessage{body: body, visibleAt: q.clock.Now()})
	return nil
}

// SendBatch puts subtasks on the queue, as JSON: the tasks queue's TaskSender.
func (q *simQueue) SendBatch(ctx context.Context, tasks []Subtask) error {
	for _, task := range tasks {
		body, err := json.Marshal(task)
		if err != nil {
			return err
		}
		if err := q.Send(ctx, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// deliver hands every visible message to consume, the receive counted (1 for the first), and
// deletes each one consume succeeds on.
func (q *simQueue) deliver(consume func(receive int, body string) error) {
	now := q.clock.Now()
	var kept []*simMessage
	for _, m := range q.messages {
		switch {
		case now.Before(m.visibleAt):
			kept = append(kept, m)
		case m.receives >= q.retries.MaxReceiveCount:
			if q.deadLetter != nil {
				q.deadLetter.messages = append(q.deadLetter.messages, &simMessage{body: m.body, visibleAt: now})
			}
		default:
			m.receives++
			m.visibleAt = now.Add(q.retries.VisibilityTimeout)
			if err := consume(m.receives, m.body); err != nil {
				kept = append(kept, m)
			}
		}
	}
	q.messages = kept
}

// errInvocationFailed is a consumer's invocation failing for reasons of its own (a timeout, a
// throttled write): the message comes back after its visibility timeout.
var errInvocationFailed = errors.New("simulated: the invocation failed")

// TestFailingItemCompletesWithErrorsAtProductionSizing runs a batch with one item that fails on
// every attempt through the production sizing (DefaultSizing: the numbers of template.yaml's
// Mappings, which TestSizingMatchesTemplate holds them to) on a simulated clock, with a client
// polling GET every 2 s as Retry-After asks, which is what marks a batch FAILED at its deadline.
// The failing item is received 3 times, 90 s apart, reaches the dead-letter queue when its last
// visibility timeout ends, is recorded FAILED by the recorder, and the sink finishes the batch:
// COMPLETED_WITH_ERRORS, each step before the batch's deadline.
//
// With a deadline shorter than the tasks queue's retries, as the template's BATCH_DEADLINE_SECONDS
// (900 s) was when that queue's visibility timeout was 360 s, the same batch is FAILED, "deadline
// passed", and the failure that reaches the recorder after it is dropped.
func TestFailingItemCompletesWithErrorsAtProductionSizing(t *testing.T) {
	sizing := DefaultSizing()
	tests := []struct {
		name     string
		deadline time.Duration
		// publishedAt is when the subtasks reach the tasks queue, after submission.
		publishedAt time.Duration
		// recorderFails and sinkFails are how many receives of the failure recorder and of the
		// sink fail before one succeeds.
		recorderFails, sinkFails int
		wantStatus               Status
	}{
		{
			name:       "one failing item",
			deadline:   sizing.Deadline(),
			wantStatus: StatusCompletedWithErrors,
		},
		{
			// The longest chain the queues allow that still ends well: the subtasks go out at the
			// end of the fan-out's window, and the recorder and the sink each succeed only on
			// their last receive.
			name:          "every queue's retries used",
			deadline:      sizing.Deadline(),
			publishedAt:   sizing.PublishWithin,
			recorderFails: sizing.TasksDeadLetter.MaxReceiveCount - 1,
			sinkFails:     sizing.Sink.MaxReceiveCount - 1,
			wantStatus:    StatusCompletedWithErrors,
		},
		{
			name:       "one failing item, a deadline inside the tasks queue's retries",
			deadline:   sizing.Tasks.Span() / 2,
			wantStatus: StatusFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := newDynamoStore(t)
			clock := &stepClock{t: t0}
			log, logs := newLog()

			failures := &simQueue{clock: clock}
			deadLetter := &simQueue{retries: sizing.TasksDeadLetter, deadLetter: failures, clock: clock}
			tasks := &simQueue{retries: sizing.Tasks, deadLetter: deadLetter, clock: clock}
			sinkDeadLetter := &simQueue{clock: clock}
			sink := &simQueue{retries: sizing.Sink, deadLetter: sinkDeadLetter, clock: clock}

			joiner := Joiner{Results: store, Sink: sink, Now: clock.Now, Log: log}
			worker := Worker{Joiner: joiner, Work: Simulate, Now: clock.Now}
			recorder := FailureRecorder{Joiner: joiner, MaxAttempts: sizing.Tasks.MaxReceiveCount, Now: clock.Now}
			aggregator := Aggregator{Results: store, Now: clock.Now, Log: log}
			reader := Reader{Batches: store, Now: clock.Now}
			submitter := Submitter{
				Batches: store, Queue: tasks,
				PublishWithin: sizing.PublishWithin, Deadline: tt.deadline, Retention: 24 * time.Hour,
				Now: clock.Now,
			}

			b, err := submitter.Submit(ctx, "alice", Input{Items: []Item{{ID: "a"}, {ID: "b"}, {ID: "c", Fail: true}}}, "", "")
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			for _, m := range tasks.messages {
				m.visibleAt = t0.Add(tt.publishedAt)
			}

			var recordedAt, aggregatedAt time.Time
			subtask := func(body string) Subtask {
				var task Subtask
				if err := json.Unmarshal([]byte(body), &task); err != nil {
					t.Fatalf("subtask %q: %v", body, err)
				}
				return task
			}
			const pollEvery = 2 * time.Second // the Retry-After of GetBatchFunction's 202
			for limit := t0.Add(2 * sizing.Deadline()); ; clock.Advance(pollEvery) {
				if clock.Now().After(limit) {
					t.Fatalf("still running at %s; want the batch done and every queue empty", clock.Now().Sub(t0))
				}
				tasks.deliver(func(_ int, body string) error { return worker.Process(ctx, subtask(body)) })
				deadLetter.deliver(func(receive int, body string) error {
					if receive <= tt.recorderFails {
						return errInvocationFailed
					}
					recordedAt = clock.Now()
					return recorder.Record(ctx, subtask(body))
				})
				sink.deliver(func(receive int, body string) error {
					if receive <= tt.sinkFails {
						return errInvocationFailed
					}
					aggregatedAt = clock.Now()
					return aggregator.Aggregate(ctx, body)
				})
				got, err := reader.Get(ctx, "alice", b.ID)
				if err != nil {
					t.Fatalf("GET at %s: %v", clock.Now().Sub(t0), err)
				}
				if got.Status.Done() && len(tasks.messages)+len(deadLetter.messages)+len(sink.messages) == 0 {
					break
				}
			}

			got := mustGet(t, store, b.ID)
			deadline := got.Deadline.Sub(t0)
			var finishedAt time.Time
			if got.FinishedAt != nil {
				finishedAt = *got.FinishedAt
			}
			t.Logf("deadline %s; failure reached the recorder at %s, sink ran at %s; ended %s at %s",
				deadline, since(recordedAt), since(aggregatedAt), got.Status, since(finishedAt))
			if len(failures.messages)+len(sinkDeadLetter.messages) != 0 {
				t.Fatalf("%d messages in FanoutFailuresDeadLetterQueue, %d in FanoutSinkDeadLetterQueue; want none: the consumers ran out of retries",
					len(failures.messages), len(sinkDeadLetter.messages))
			}
			if got.Status != tt.wantStatus {
				t.Fatalf("batch ended %s (failure %+v); want %s", got.Status, got.Failure, tt.wantStatus)
			}
			if tt.wantStatus != StatusCompletedWithErrors {
				if n := logs.count("subtask result dropped"); n != 1 {
					t.Errorf("%d failures dropped; want 1, the one that reached the recorder after the deadline", n)
				}
				return
			}
			if recordedAt.IsZero() || recordedAt.After(got.Deadline) || aggregatedAt.IsZero() || aggregatedAt.After(got.Deadline) {
				t.Errorf("failure recorded at %s, sink ran at %s; want both before the deadline, %s",
					since(recordedAt), since(aggregatedAt), deadline)
			}
			if r := got.Result; r == nil || r.Succeeded != 2 || r.Failed != 1 || len(r.FailedItems) != 1 || r.FailedItems[0].ID != "c" {
				t.Errorf("result = %+v; want 2 succeeded and c failed", got.Result)
			}
		})
	}
}

// since renders a moment of the simulation as the time since submission.
func since(at time.Time) string {
	if at.IsZero() {
		return "never"
	}
	return fmt.Sprint(at.Sub(t0))
}
