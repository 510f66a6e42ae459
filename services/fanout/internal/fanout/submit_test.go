package fanout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/invalid"
)

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{ID: fmt.Sprintf("item-%d", i), DurationMS: 1}
	}
	return out
}

func newSubmitter(s DynamoStore, q *fakeQueue) Submitter {
	return Submitter{
		Batches: s, Queue: q, Wave: 2,
		PublishWithin: DefaultPublishWithin, Deadline: DefaultSizing().Deadline(), Retention: 24 * time.Hour,
		Now: func() time.Time { return t0 },
	}
}

func TestSubmitRecordsThenFansOut(t *testing.T) {
	s, q := newDynamoStore(t), &fakeQueue{}
	in := Input{Items: items(45)}
	b, err := newSubmitter(s, q).Submit(context.Background(), "alice", in, "", "corr-1")
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	stored := mustGet(t, s, b.ID)
	if stored.Status != StatusRunning || stored.Total != 45 || stored.Remaining != 45 || stored.Published != 45 || stored.Owner != "alice" || stored.CorrelationID != "corr-1" {
		t.Errorf("stored = %+v; want RUNNING, 45 total, remaining and published, owner alice", stored)
	}
	if len(q.sent) != 45 || q.calls != 5 {
		t.Fatalf("sent %d subtasks in %d calls; want 45 in 5 (batches of 10)", len(q.sent), q.calls)
	}
	seen := map[string]bool{}
	for _, task := range q.sent {
		if task.BatchID != b.ID {
			t.Fatalf("subtask for batch %s; want %s", task.BatchID, b.ID)
		}
		seen[task.Item.ID] = true
	}
	if len(seen) != 45 {
		t.Errorf("%d distinct items sent; want 45", len(seen))
	}
}

func TestSubmitRejectsInvalidInputWithoutWriting(t *testing.T) {
	q := &fakeQueue{}
	sub := newSubmitter(DynamoStore{}, q) // a zero store: any write would panic
	for _, in := range []Input{{}, {Items: items(MaxItems + 1)}} {
		_, err := sub.Submit(context.Background(), "alice", in, "", "")
		if _, ok := errors.AsType[*invalid.Param](err); !ok {
			t.Errorf("Submit(%d items) = %v; want an *invalid.Param", len(in.Items), err)
		}
	}
	if q.calls != 0 {
		t.Errorf("%d sends for invalid input; want none", q.calls)
	}
}

// TestSubmitResumesAfterDyingPartWay: the fan-out fails on the call holding items 30 to 39, in the
// second wave (a wave is 2 calls of 10 here), so the cursor stays at 20. A retry with the same
// Idempotency-Key finds the batch and sends from the cursor: every item reaches the queue, and only
// the items of the wave cut short (20 to 29) twice. The retry comes ten minutes later, and the
// batch's publish window and deadline move with it.
func TestSubmitResumesAfterDyingPartWay(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	q := &fakeQueue{fail: func(tasks []Subtask) bool { return tasks[0].Item.ID == "item-30" }}
	sub := newSubmitter(s, q)
	in := Input{Items: items(100)}
	if _, err := sub.Submit(ctx, "alice", in, "key-1", ""); err == nil {
		t.Fatal("Submit with a failing queue = nil; want an error")
	}
	id := IDForRequest("alice", "key-1")
	b := mustGet(t, s, id)
	if b.Status != StatusRunning || b.Published != 20 {
		t.Fatalf("after the failure: %s, published %d; want RUNNING, 20 (the one wave that went through)", b.Status, b.Published)
	}

	// The subtasks sent now start their retries now: the deadline must leave them all.
	q.fail = nil
	retried := t0.Add(10 * time.Minute)
	sub.Now = func() time.Time { return retried }
	again, err := sub.Submit(ctx, "alice", in, "key-1", "")
	if err != nil || again.ID != id {
		t.Fatalf("retry = %+v, %v; want batch %s", again, err, id)
	}
	if got := mustGet(t, s, id); !got.PublishBy.Equal(retried.Add(sub.PublishWithin)) || !got.Deadline.Equal(retried.Add(sub.Deadline)) {
		t.Errorf("after the retry: publishBy %v, deadline %v; want %v and %v",
			got.PublishBy, got.Deadline, retried.Add(sub.PublishWithin), retried.Add(sub.Deadline))
	}
	counts := map[string]int{}
	for _, task := range q.sent {
		counts[task.Item.ID]++
	}
	for i, item := range in.Items {
		want := 1
		if i >= 20 && i < 30 {
			want = 2 // sent in the wave that failed half-way, so sent again: the workers absorb it
		}
		if counts[item.ID] != want {
			t.Errorf("item %s sent %d times; want %d", item.ID, counts[item.ID], want)
		}
	}
	if got := mustGet(t, s, id).Published; got != 100 {
		t.Errorf("published = %d after the retry; want 100", got)
	}

	// A third call has nothing left to send; the same key with other items is refused.
	sent := len(q.sent)
	if _, err := sub.Submit(ctx, "alice", in, "key-1", ""); err != nil || len(q.sent) != sent {
		t.Errorf("third Submit = %v and sent %d more; want nil and none", err, len(q.sent)-sent)
	}
	if _, err := sub.Submit(ctx, "alice", Input{Items: items(3)}, "key-1", ""); !errors.Is(err, ErrFingerprintMismatch) {
		t.Errorf("same key, other items = %v; want ErrFingerprintMismatch", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		in    Input
		field string
	}{
		{"ok", Input{Items: []Item{{ID: "a"}, {ID: "b.c:d_e-f", DurationMS: 5000, Fail: true}}}, ""},
		{"no items", Input{}, "items"},
		{"too many", Input{Items: items(MaxItems + 1)}, "items"},
		{"most allowed", Input{Items: items(MaxItems)}, ""},
		{"empty id", Input{Items: []Item{{ID: ""}}}, "items[0].id"},
		{"id too long", Input{Items: []Item{{ID: "a"}, {ID: strings.Repeat("x", 65)}}}, "items[1].id"},
		{"id with a space", Input{Items: []Item{{ID: "a b"}}}, "items[0].id"},
		{"duplicate id", Input{Items: []Item{{ID: "a"}, {ID: "a"}}}, "items[1].id"},
		{"negative duration", Input{Items: []Item{{ID: "a", DurationMS: -1}}}, "items[0].durationMs"},
		{"duration too long", Input{Items: []Item{{ID: "a", DurationMS: 5001}}}, "items[0].durationMs"},
		// As nanoseconds, 9223372036855 ms wraps to -8 s and 2^58 + 1000 ms to exactly 1 s: the
		// comparison is in milliseconds.
		{"duration that wraps negative", Input{Items: []Item{{ID: "a", DurationMS: 9223372036855}}}, "items[0].durationMs"},
		{"duration that wraps into range", Input{Items: []Item{{ID: "a", DurationMS: 1<<58 + 1000}}}, "items[0].durationMs"},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		bad, isInvalid := errors.AsType[*invalid.Param](err)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: Validate = %v; want nil", tt.name, err)
		case tt.field != "" && (!isInvalid || bad.Name != tt.field):
			t.Errorf("%s: Validate = %v; want an error naming %s", tt.name, err, tt.field)
		}
	}
}
