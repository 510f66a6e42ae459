package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/budget"
)

// countBatch is the batch's counters and status, for comparing in one go.
func countBatch(t *testing.T, s DynamoStore, id string) string {
	t.Helper()
	b := mustGet(t, s, id)
	return fmt.Sprintf("%s remaining %d completed %d failed %d", b.Status, b.Remaining, b.Completed, b.Failed)
}

func storedResults(t *testing.T, s DynamoStore, id string) []string {
	t.Helper()
	var ids []string
	if err := s.Results(context.Background(), id, func(r SubtaskResult) error { ids = append(ids, r.ItemID); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestDynamoStoreRecordAll: results new to a batch far from done are recorded and counted together;
// in every other case nothing is written and ErrRecordOneByOne sends them through Record, which
// tells a duplicate, the last subtask and a closed batch apart.
func TestDynamoStoreRecordAll(t *testing.T) {
	tests := []struct {
		name    string
		total   int
		before  []SubtaskResult // recorded one at a time first
		closed  bool
		group   []SubtaskResult
		wantErr error
		want    string
		stored  []string
	}{
		{
			name: "new results, batch far from done", total: 10,
			group: []SubtaskResult{done("a"), failed("b"), done("c")},
			want:  "RUNNING remaining 7 completed 2 failed 1", stored: []string{"a", "b", "c"},
		},
		{
			name: "one of them recorded before", total: 10, before: []SubtaskResult{done("b")},
			group:   []SubtaskResult{done("a"), done("b"), done("c")},
			wantErr: ErrRecordOneByOne, want: "RUNNING remaining 9 completed 1 failed 0", stored: []string{"b"},
		},
		{
			name: "they would finish the batch", total: 4, before: []SubtaskResult{done("d")},
			group:   []SubtaskResult{done("a"), done("b"), done("c")},
			wantErr: ErrRecordOneByOne, want: "RUNNING remaining 3 completed 1 failed 0", stored: []string{"d"},
		},
		{
			name: "all but the last one of the batch", total: 4,
			group: []SubtaskResult{done("a"), done("b"), done("c")},
			want:  "RUNNING remaining 1 completed 3 failed 0", stored: []string{"a", "b", "c"},
		},
		{
			name: "the batch FAILED", total: 10, closed: true,
			group:   []SubtaskResult{done("a"), done("b")},
			wantErr: ErrRecordOneByOne, want: "FAILED remaining 10 completed 0 failed 0",
		},
		{
			name: "an item twice", total: 10,
			group:   []SubtaskResult{done("a"), done("a")},
			wantErr: ErrRecordOneByOne, want: "RUNNING remaining 10 completed 0 failed 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newDynamoStore(t)
			b := runningBatch(batchID, tt.total)
			b.Deadline = t0
			mustCreate(t, s, b)
			for _, r := range tt.before {
				if _, err := s.Record(ctx, batchID, r); err != nil {
					t.Fatal(err)
				}
			}
			if tt.closed {
				if err := s.FailExpired(ctx, batchID, Failure{Reason: "deadline passed"}, t0.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			err := s.RecordAll(ctx, batchID, tt.group)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("RecordAll = %v; want %v", err, tt.wantErr)
			}
			if got := countBatch(t, s, batchID); got != tt.want {
				t.Errorf("batch %s; want %s", got, tt.want)
			}
			if got := storedResults(t, s, batchID); !slices.Equal(got, tt.stored) {
				t.Errorf("results stored %v; want %v", got, tt.stored)
			}
		})
	}
}

// loggedResults is a ResultRecorder that notes every call it gets; RecordAll answers allErr.
type loggedResults struct {
	allErr error
	mu     sync.Mutex
	calls  []string
}

func (l *loggedResults) note(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

func (l *loggedResults) made() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *loggedResults) Record(context.Context, string, SubtaskResult) (bool, error) {
	l.note("Record")
	return false, nil
}

func (l *loggedResults) RecordAll(_ context.Context, _ string, results []SubtaskResult) error {
	l.note(fmt.Sprintf("RecordAll(%d)", len(results)))
	return l.allErr
}

func (l *loggedResults) Get(context.Context, string) (Batch, error) { return Batch{}, ErrNotFound }

// waitingFor is how many results rec holds for the batch, not yet taken by a transaction.
func (rec *Recording) waitingFor(batchID string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.waiting[batchID])
}

// awaitWaiting polls until rec holds n results of the batch, and fails the test after 5 s.
func awaitWaiting(t *testing.T, rec *Recording, n int) {
	t.Helper()
	for limit := time.Now().Add(5 * time.Second); rec.waitingFor(batchID) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(limit) {
			t.Fatalf("%d results waiting after 5 s; want %d", rec.waitingFor(batchID), n)
		}
	}
}

// slowWork is work that starts n items together: each waits until all n have started (so every one
// counts as working before any result is taken), then finishes at once, except "slow", which
// waits for release.
func slowWork(n int, release <-chan struct{}) func(context.Context, Item) (string, error) {
	var started sync.WaitGroup
	started.Add(n)
	return func(_ context.Context, item Item) (string, error) {
		started.Done()
		started.Wait()
		if item.ID == "slow" {
			<-release
		}
		return "processed " + item.ID, nil
	}
}

// TestRecordingRecordsAnInvocationsResultsTogether: the quick results of an invocation wait,
// unrecorded, while its slow item works; then all of them are recorded in one transaction. A group
// that cannot be recorded together goes one result at a time; a group that fails fails each result.
func TestRecordingRecordsAnInvocationsResultsTogether(t *testing.T) {
	errDown := errors.New("dynamodb unavailable")
	group := fmt.Sprintf("RecordAll(%d)", WorkerBatchSize) // a full batch's results, together
	tests := []struct {
		name      string
		allErr    error
		wantCalls []string
		wantErr   error
	}{
		{"together", nil, []string{group}, nil},
		{"one by one", ErrRecordOneByOne, append([]string{group}, slices.Repeat([]string{"Record"}, WorkerBatchSize)...), nil},
		{"the group fails", errDown, []string{group}, errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := &loggedResults{allErr: tt.allErr}
			release := make(chan struct{})
			log, _ := newLog()
			w := Worker{
				Joiner:    Joiner{Results: results, Sink: &fakeSink{}, Now: time.Now, Log: log},
				Work:      slowWork(WorkerBatchSize, release),
				Now:       time.Now,
				Recording: NewRecording(),
			}
			errs := make(chan error, WorkerBatchSize)
			for i := range WorkerBatchSize {
				id := fmt.Sprintf("item-%d", i)
				if i == 0 {
					id = "slow"
				}
				go func() { errs <- w.Process(context.Background(), Subtask{BatchID: batchID, Item: Item{ID: id}}) }()
			}
			awaitWaiting(t, w.Recording, WorkerBatchSize-1)
			if got := results.made(); len(got) != 0 {
				t.Errorf("recorded %v while an item was still working; want nothing yet", got)
			}
			close(release)
			var failed int
			for range WorkerBatchSize {
				if err := <-errs; err != nil {
					if tt.wantErr == nil || !errors.Is(err, tt.wantErr) {
						t.Errorf("Process = %v; want %v", err, tt.wantErr)
					}
					failed++
				}
			}
			if got := results.made(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls %v; want %v", got, tt.wantCalls)
			}
			if tt.wantErr != nil && failed != WorkerBatchSize {
				t.Errorf("%d results failed; want the %d of the group", failed, WorkerBatchSize)
			}
		})
	}
}

// TestRecordingGivesUpWaitingAtTheBudget: a result still waiting when its budget's margin comes
// fails, unrecorded, in time for the invocation to answer, and is not left behind for a later
// transaction to record.
func TestRecordingGivesUpWaitingAtTheBudget(t *testing.T) {
	results := &loggedResults{}
	release := make(chan struct{})
	log, _ := newLog()
	w := Worker{
		Joiner:    Joiner{Results: results, Sink: &fakeSink{}, Now: time.Now, Log: log},
		Work:      slowWork(2, release),
		Budget:    budget.Budget{Margin: time.Second},
		Now:       time.Now,
		Recording: NewRecording(),
	}
	slow := make(chan error, 1)
	go func() { slow <- w.Process(context.Background(), Subtask{BatchID: batchID, Item: Item{ID: "slow"}}) }()
	// The quick item's budget ends 100 ms in, while the slow one still works.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second+100*time.Millisecond)
	defer cancel()
	err := w.Process(ctx, Subtask{BatchID: batchID, Item: Item{ID: "quick"}})
	if !errors.Is(err, budget.ErrBudgetExhausted) {
		t.Errorf("Process while another item outlasts the budget = %v; want ErrBudgetExhausted", err)
	}
	if n := w.Recording.waitingFor(batchID); n != 0 {
		t.Errorf("%d results left waiting; want none", n)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if got := results.made(); !slices.Equal(got, []string{"Record"}) {
		t.Errorf("calls %v; want the slow item's Record alone", got)
	}
}

// TestRecordingCountsEachSubtaskOnce runs rounds of a batch of 60 items whose 75 deliveries (15
// items twice, in random order) go to three execution environments, invocations of WorkerBatchSize at a time,
// each environment recording its results a group at a time on DynamoDB Local. Groups meet
// duplicates, the batch's last subtasks and each other: every round must count 60, end AGGREGATING,
// and have exactly one result recorded as the last. (A duplicate that arrives once the batch is
// AGGREGATING sends the sink the batch again, as it must after a crash; the sink is idempotent.)
func TestRecordingCountsEachSubtaskOnce(t *testing.T) {
	const (
		rounds       = 6
		total        = 60
		duplicates   = 15
		environments = 3
	)
	store := newDynamoStore(t)
	s := &countingGroups{DynamoStore: store}
	sink := &fakeSink{}
	log, lines := newLog()
	for round := range rounds {
		id := fmt.Sprintf("%032x", 3000+round)
		mustCreate(t, store, runningBatch(id, total))
		queue := make(chan Subtask, total+duplicates)
		for _, i := range rand.Perm(total + duplicates) {
			queue <- Subtask{BatchID: id, Item: Item{ID: fmt.Sprintf("item-%d", i%total)}}
		}
		close(queue)
		var environmentsDone sync.WaitGroup
		for range environments {
			w := Worker{
				Joiner:    Joiner{Results: s, Sink: sink, Now: func() time.Time { return t0 }, Log: log},
				Work:      Simulate,
				Now:       func() time.Time { return t0 },
				Recording: NewRecording(),
			}
			environmentsDone.Go(func() {
				for {
					var invocation sync.WaitGroup
					for range WorkerBatchSize {
						task, ok := <-queue
						if !ok {
							break
						}
						invocation.Go(func() {
							if err := w.Process(context.Background(), task); err != nil {
								t.Errorf("round %d: Process(%s): %v", round, task.Item.ID, err)
							}
						})
					}
					invocation.Wait()
					if len(queue) == 0 {
						return
					}
				}
			})
		}
		environmentsDone.Wait()
		if got, want := countBatch(t, store, id), fmt.Sprintf("AGGREGATING remaining 0 completed %d failed 0", total); got != want {
			t.Fatalf("round %d: batch %s; want %s", round, got, want)
		}
		if got := lines.count(`"msg":"last subtask recorded; triggering the sink"`); got != round+1 || sink.count() < got {
			t.Fatalf("after round %d, %d results recorded as a batch's last and %d sink messages; want %d, and as many messages at least",
				round, got, sink.count(), round+1)
		}
	}
	if s.groups.Load() == 0 {
		t.Errorf("no group recorded together in %d rounds; the test no longer exercises them", rounds)
	}
	t.Logf("%d groups recorded together in %d rounds", s.groups.Load(), rounds)
}

// countingGroups counts the groups a store records together.
type countingGroups struct {
	DynamoStore
	groups atomic.Int64
}

func (c *countingGroups) RecordAll(ctx context.Context, batchID string, results []SubtaskResult) error {
	err := c.DynamoStore.RecordAll(ctx, batchID, results)
	if err == nil {
		c.groups.Add(1)
	}
	return err
}
