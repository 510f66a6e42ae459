package flags

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/lambdatest"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// fakeClock is the time the test says it is. Waiting on it (after) records how long was asked
// and, when fire is set, moves the clock by that much and returns at once; otherwise it never
// returns, so whatever else the caller waits for decides.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	fire  bool
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	if !c.fire {
		return nil // never fires
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Firing(fire bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fire = fire
}

// Waits returns the waits asked for so far.
func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// fakeEvaluator answers v2 for everyone and counts flushes; it knows whether it was closed.
type fakeEvaluator struct {
	mu      sync.Mutex
	flushes int
	closed  chan struct{}
}

func newFakeEvaluator() *fakeEvaluator { return &fakeEvaluator{closed: make(chan struct{})} }

func (f *fakeEvaluator) Evaluate(context.Context, User) (pricing.Engine, Reason) {
	return pricing.V2, "RULE_MATCH(0,beta-plan)"
}

func (f *fakeEvaluator) Flush(context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
}

func (f *fakeEvaluator) Close() error {
	close(f.closed)
	return nil
}

// opener is an Opener the test drives: each attempt takes the next result sent on results, or
// ends with ctx. It counts attempts.
type opener struct {
	results chan openResult
	mu      sync.Mutex
	calls   int
}

type openResult struct {
	ev  Evaluator
	err error
}

func newOpener() *opener { return &opener{results: make(chan openResult)} }

func (o *opener) Open(ctx context.Context) (Evaluator, error) {
	o.mu.Lock()
	o.calls++
	o.mu.Unlock()
	select {
	case r := <-o.results:
		return r.ev, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (o *opener) Calls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

var beta = User{Key: "u-beta", Plan: "beta"}

// TestAsyncServesTheFallbackUntilReady: StartAsync returns without waiting for the opener (which
// answers only when the test sends it a result); the first request waits what is left of the
// bound, then gets v1, CLIENT_NOT_READY and a WARN line saying how long it waited; the next
// request does not wait at all; once the opener has answered, the flags decide and are flushed.
func TestAsyncServesTheFallbackUntilReady(t *testing.T) {
	clock := &fakeClock{now: t0, fire: true}
	open := newOpener()
	log, logs := lambdatest.CaptureLogger()
	a := StartAsync(open.Open, AsyncConfig{Wait: 200 * time.Millisecond, Now: clock.Now, After: clock.After, Log: log})
	defer a.Close()
	// Nothing has been sent to the opener: had StartAsync waited for it, the test would not be here.

	clock.Advance(50 * time.Millisecond) // the rest of the cold start
	ctx := context.Background()
	if e, reason := a.Evaluate(ctx, beta); e != pricing.V1 || reason != ReasonNotReady {
		t.Errorf("first request: %s, %s; want v1, %s", e, reason, ReasonNotReady)
	}
	if got, want := clock.Waits(), []time.Duration{150 * time.Millisecond}; !equal(got, want) {
		t.Errorf("waits %v; want %v: the bound counts from the start, not from the request", got, want)
	}
	lines := logs.Lines()
	if len(lines) != 1 || !strings.Contains(lines[0], `"reason":"ERROR(CLIENT_NOT_READY)"`) || !strings.Contains(lines[0], `"waitedMs":150`) || !strings.Contains(lines[0], `"level":"WARN"`) {
		t.Errorf("log %q; want one WARN line with the reason and waitedMs 150", lines)
	}

	if e, _ := a.Evaluate(ctx, beta); e != pricing.V1 {
		t.Errorf("second request: %s; want v1", e)
	}
	if got := clock.Waits(); len(got) != 1 {
		t.Errorf("waits %v; want none after the bound has passed", got)
	}
	a.Flush(ctx) // nothing to flush: fallbacks record no events

	ev := newFakeEvaluator()
	open.results <- openResult{ev: ev}
	awaitAttempt(t, a)
	if e, reason := a.Evaluate(ctx, beta); e != pricing.V2 || reason != "RULE_MATCH(0,beta-plan)" {
		t.Errorf("once ready: %s, %s; want the flag's v2", e, reason)
	}
	a.Flush(ctx)
	if ev.flushes != 1 {
		t.Errorf("%d flushes reached the evaluator; want 1 (after it was ready)", ev.flushes)
	}
	if open.Calls() != 1 {
		t.Errorf("%d attempts; want 1", open.Calls())
	}
}

// awaitAttempt waits for the attempt in flight to finish and checks that it built the evaluator.
// It looks inside a: the bound has passed, so no request would wait for the attempt.
func awaitAttempt(t *testing.T, a *Async) {
	t.Helper()
	a.mu.Lock()
	at := a.attempt
	a.mu.Unlock()
	if at != nil {
		<-at.done
	}
	if ev, _, _ := a.state(); ev == nil {
		t.Fatal("the attempt finished without an evaluator")
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAsyncWaitIsBoundedByTheInvocation: a request never waits into the last second of its
// invocation, nor past the bound, and does not wait at all when neither leaves time.
func TestAsyncWaitIsBoundedByTheInvocation(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // after t0; zero: no deadline
		want     []time.Duration
	}{
		{name: "no deadline", want: []time.Duration{200 * time.Millisecond}},
		{name: "time enough", deadline: 5 * time.Second, want: []time.Duration{200 * time.Millisecond}},
		{name: "deadline first", deadline: 1100 * time.Millisecond, want: []time.Duration{100 * time.Millisecond}},
		{name: "no time to wait", deadline: 900 * time.Millisecond, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: t0, fire: true}
			open := newOpener()
			log, _ := lambdatest.CaptureLogger()
			a := StartAsync(open.Open, AsyncConfig{Wait: 200 * time.Millisecond, Now: clock.Now, After: clock.After, Log: log})
			defer a.Close()
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, t0.Add(tt.deadline))
				defer cancel()
			}
			if e, reason := a.Evaluate(ctx, beta); e != pricing.V1 || reason != ReasonNotReady {
				t.Errorf("Evaluate = %s, %s; want v1, %s", e, reason, ReasonNotReady)
			}
			if got := clock.Waits(); !equal(got, tt.want) {
				t.Errorf("waits %v; want %v", got, tt.want)
			}
		})
	}
}

// TestAsyncWaitsForAFastStart: an opener that answers within the bound serves the first request.
func TestAsyncWaitsForAFastStart(t *testing.T) {
	clock := &fakeClock{now: t0} // the bound never passes: only the attempt ends the wait
	ev := newFakeEvaluator()
	log, logs := lambdatest.CaptureLogger()
	a := StartAsync(func(context.Context) (Evaluator, error) { return ev, nil }, AsyncConfig{Wait: 200 * time.Millisecond, Now: clock.Now, After: clock.After, Log: log})
	if e, _ := a.Evaluate(context.Background(), beta); e != pricing.V2 {
		t.Errorf("first request: %s; want v2 from the flags", e)
	}
	if len(logs.Lines()) != 0 {
		t.Errorf("log %q; want nothing for a normal decision", logs.Lines())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ev.closed:
	default:
		t.Error("Close did not close the evaluator")
	}
}

// TestAsyncRetriesAFailedStart: a failed attempt is logged at ERROR, its reason is served without
// waiting, and the first request RetryAfter after it began starts another.
func TestAsyncRetriesAFailedStart(t *testing.T) {
	clock := &fakeClock{now: t0}
	open := newOpener()
	log, logs := lambdatest.CaptureLogger()
	a := StartAsync(open.Open, AsyncConfig{Wait: 200 * time.Millisecond, RetryAfter: 30 * time.Second, Now: clock.Now, After: clock.After, Log: log})
	defer a.Close()
	ctx := context.Background()

	go func() {
		open.results <- openResult{err: &StartError{Reason: "NO_SDK_KEY", Err: errors.New("read sdk key parameter /p/key: AccessDeniedException")}}
	}()
	if e, reason := a.Evaluate(ctx, beta); e != pricing.V1 || reason != "NO_SDK_KEY" {
		t.Errorf("after the failure: %s, %s; want v1, NO_SDK_KEY", e, reason)
	}
	if text := strings.Join(logs.Lines(), "\n"); !strings.Contains(text, `"level":"ERROR"`) || !strings.Contains(text, "/p/key") {
		t.Errorf("no ERROR line naming the parameter:\n%s", text)
	}

	clock.Advance(29 * time.Second)
	if _, reason := a.Evaluate(ctx, beta); reason != "NO_SDK_KEY" || open.Calls() != 1 {
		t.Errorf("29 s later: reason %s after %d attempts; want NO_SDK_KEY after 1", reason, open.Calls())
	}

	clock.Advance(time.Second)
	go func() { open.results <- openResult{ev: newFakeEvaluator()} }()
	if e, _ := a.Evaluate(ctx, beta); e != pricing.V2 || open.Calls() != 2 {
		t.Errorf("30 s later: %s after %d attempts; want v2 from a second attempt", e, open.Calls())
	}
}

// TestAsyncClosedWhileStarting: Close ends the attempt in flight, and an evaluator it still
// built is closed rather than left running.
func TestAsyncClosedWhileStarting(t *testing.T) {
	log, _ := lambdatest.CaptureLogger()
	ev := newFakeEvaluator()
	started, cancelled := make(chan struct{}), make(chan struct{})
	a := StartAsync(func(ctx context.Context) (Evaluator, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ev, nil // built all the same (LaunchDarkly's client start cannot be cancelled)
	}, AsyncConfig{Log: log})
	<-started
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-cancelled
	<-ev.closed // the test ends only if the late evaluator is closed
	if e, reason := a.Evaluate(context.Background(), beta); e != pricing.V1 || reason != ReasonNotReady {
		t.Errorf("after Close: %s, %s; want v1, %s", e, reason, ReasonNotReady)
	}
}

func TestFallbackEvaluator(t *testing.T) {
	log, _ := lambdatest.CaptureLogger()
	f := Fallback{Reason: "NO_CLIENT", Log: log}
	if e, reason := f.Evaluate(context.Background(), User{Key: "u", Plan: "beta"}); e != pricing.V1 || reason != "NO_CLIENT" {
		t.Errorf("Fallback.Evaluate = %s, %s; want v1, NO_CLIENT", e, reason)
	}
}
