package flags

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/budget"
)

// Opener builds the evaluator Async hands requests to: for LaunchDarkly, read the SDK key and
// start the client. It returns once the evaluator has its flag data, or has stopped waiting for
// it (the evaluator then serves fallbacks itself until the data arrives). An error means nothing
// could be built; a *StartError says which Reason to answer until an attempt succeeds. ctx ends
// when the Async is closed.
type Opener func(ctx context.Context) (Evaluator, error)

// StartError is an Opener's failure, with the Reason evaluations give until the next attempt
// succeeds ("NO_SDK_KEY" when the key could not be read).
type StartError struct {
	Reason Reason
	Err    error
}

// Error says what failed; it names no secret (ReadSDKKey's errors name the parameter only).
func (e *StartError) Error() string { return e.Err.Error() }

// Unwrap returns the failure, for errors.Is and errors.As.
func (e *StartError) Unwrap() error { return e.Err }

// reasonNoClient is the fallback's reason after an Opener failed without saying why.
const reasonNoClient Reason = "NO_CLIENT"

// DefaultRetryAfter is AsyncConfig.RetryAfter when zero: a start that keeps failing costs SSM
// one call per environment every 30 s, and only the request that begins an attempt waits for it.
const DefaultRetryAfter = 30 * time.Second

// waitMargin is the part of an invocation a request never spends waiting for flag data: the
// flags choose how to do the request's work, they must not leave it no time to be done.
const waitMargin = time.Second

// AsyncConfig configures StartAsync.
type AsyncConfig struct {
	// Wait bounds how long requests wait for an attempt, counted from the attempt's start (the
	// cold start, for the first): at most Wait of waiting per attempt in all, however many
	// requests arrive meanwhile. Zero means requests never wait.
	Wait time.Duration
	// RetryAfter is how long after a failed attempt began the next request starts another (and
	// waits for it as above). Zero means DefaultRetryAfter.
	RetryAfter time.Duration
	// Now tells the time: the wait and the retry are counted with it, and the invocation's
	// deadline is compared with it, so it is wall-clock time. Nil means time.Now.
	Now func() time.Time
	// After waits: it is time.After unless a test replaces it.
	After func(time.Duration) <-chan time.Time
	Log   *slog.Logger
}

// Async is an Evaluator built in the background, so that a cold start never waits on the
// network for it (SSM for the SDK key, then LaunchDarkly for the flags). Until the evaluator is
// built, a request waits for it, but only within AsyncConfig.Wait of the attempt's start and
// never into the last second of its invocation, then answers v1 with ReasonNotReady and a WARN
// line saying how long it waited. After a failed attempt requests get Fallback, with the
// failure's reason, until the first request RetryAfter later starts another attempt.
//
// Make one with StartAsync. It is safe for concurrent use.
type Async struct {
	open       Opener
	wait       time.Duration
	retryAfter time.Duration
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time
	log        *slog.Logger

	mu sync.Mutex
	// ev is the built evaluator, once an attempt succeeded; every later call goes to it.
	ev Evaluator
	// attempt is the attempt in flight, if any.
	attempt *attempt
	// failed answers between a failed attempt and the next.
	failed *Fallback
	// begun is when the latest attempt began.
	begun  time.Time
	closed bool
}

// attempt is one run of the Opener.
type attempt struct {
	// done is closed when the attempt has finished, after its outcome is recorded.
	done chan struct{}
	// waitUntil is when requests stop waiting for it.
	waitUntil time.Time
	cancel    context.CancelFunc
}

// StartAsync starts the first attempt to open the evaluator and returns without waiting for it.
func StartAsync(open Opener, cfg AsyncConfig) *Async {
	a := &Async{
		open: open, wait: cfg.Wait, retryAfter: cfg.RetryAfter, now: cfg.Now, after: cfg.After, log: cfg.Log,
	}
	if a.retryAfter <= 0 {
		a.retryAfter = DefaultRetryAfter
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.after == nil {
		a.after = time.After
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.begin()
	return a
}

// begin starts an attempt. a.mu is held.
func (a *Async) begin() {
	ctx, cancel := context.WithCancel(context.Background())
	a.begun = a.now()
	at := &attempt{done: make(chan struct{}), waitUntil: a.begun.Add(a.wait), cancel: cancel}
	a.attempt = at
	go a.run(ctx, at)
}

// run opens the evaluator and records the outcome.
func (a *Async) run(ctx context.Context, at *attempt) {
	defer close(at.done)
	defer at.cancel()
	ev, err := a.open(ctx)
	if err == nil && ev == nil {
		err = errors.New("open feature flags: no evaluator")
	}
	reason := reasonNoClient
	var se *StartError
	if errors.As(err, &se) {
		reason = se.Reason
	}

	a.mu.Lock()
	a.attempt = nil
	closed := a.closed
	switch {
	case closed:
	case err != nil:
		a.failed = &Fallback{Reason: reason, Log: a.log}
	default:
		a.ev, a.failed = ev, nil
	}
	a.mu.Unlock()

	switch {
	case closed && err == nil:
		// Closed while it was being built: nobody else will close it.
		closeEvaluator(ev, a.log)
	case closed:
		// Closed while it was being built, and the attempt ended with it: nothing to report.
	case err != nil:
		a.log.Error("feature flags disabled: serving the fallback engine until a later attempt succeeds",
			"flag", FlagKey, "fallback", string(pricing.V1), "reason", string(reason),
			"retryAfter", a.retryAfter.String(), "error", err.Error())
	}
}

// state returns the evaluator if built, else the attempt in flight (starting one when the last
// failed long enough ago) and the fallback of a failed attempt.
func (a *Async) state() (Evaluator, *attempt, *Fallback) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ev == nil && a.attempt == nil && !a.closed && !a.now().Before(a.begun.Add(a.retryAfter)) {
		a.begin()
	}
	return a.ev, a.attempt, a.failed
}

// Evaluate evaluates with the built evaluator, waiting for it within the bounds above, or answers
// v1 without it.
func (a *Async) Evaluate(ctx context.Context, u User) (pricing.Engine, Reason) {
	ev, at, failed := a.state()
	var waited time.Duration
	if ev == nil && at != nil {
		start := a.now()
		wait := min(at.waitUntil.Sub(start), budget.Budget{Margin: waitMargin, Now: a.now}.Remaining(ctx))
		if wait > 0 {
			select {
			case <-at.done:
			case <-a.after(wait):
			case <-ctx.Done():
			}
			waited = a.now().Sub(start)
			ev, at, failed = a.state()
		}
	}
	switch {
	case ev != nil:
		return ev.Evaluate(ctx, u)
	case at == nil && failed != nil:
		return failed.Evaluate(ctx, u)
	}
	// reason and waitedMs are the fields to count these by (a metric filter or a Logs Insights
	// query): how often a cold start's first requests miss the flags, and what they paid.
	a.log.WarnContext(ctx, "feature flags not ready: serving the fallback engine",
		"flag", FlagKey, "engine", string(pricing.V1), "reason", string(ReasonNotReady), "waitedMs", waited.Milliseconds())
	return pricing.V1, ReasonNotReady
}

// Flush flushes the built evaluator's events; before there is one, evaluations were fallbacks
// and recorded none.
func (a *Async) Flush(ctx context.Context) {
	a.mu.Lock()
	ev := a.ev
	a.mu.Unlock()
	if ev != nil {
		ev.Flush(ctx)
	}
}

// Close stops an attempt in flight and closes the built evaluator, delivering its last events.
// A process that ends cleanly calls it; the functions do not (services/pricing/README.md, Cold
// start): Lambda ends them with SIGKILL, after each invocation's flush.
func (a *Async) Close() error {
	a.mu.Lock()
	a.closed = true
	ev, at := a.ev, a.attempt
	a.mu.Unlock()
	if at != nil {
		at.cancel()
	}
	if c, ok := ev.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func closeEvaluator(ev Evaluator, log *slog.Logger) {
	if c, ok := ev.(io.Closer); ok {
		if err := c.Close(); err != nil {
			log.Warn("closing the flag client", "error", err.Error())
		}
	}
}
