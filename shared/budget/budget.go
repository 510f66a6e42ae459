// Package budget derives timeouts from the time a Lambda invocation has left.
//
// Lambda stops a function at its deadline without warning: no deferred
// function runs, no error is returned, and the log shows only "Task timed
// out". Work that is cut off mid-way is the worst outcome: a half-written
// result, a message that is redelivered after a long visibility timeout, and
// nothing in the log to say which step was slow. This package keeps a safety
// margin before the deadline so that code can give up cleanly instead: bound
// each downstream call ([Budget.Context], or [Calls] in an adapter), decide
// whether to start another unit of work ([Budget.Fits]), and leave a log line
// naming the slow step when time is nearly gone ([Watch]).
package budget

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"
)

// ErrBudgetExhausted is the cause of a context from [Budget.Context] that
// ended because the invocation ran out of time, as opposed to the call's own
// timeout. Check it with errors.Is(context.Cause(ctx), ErrBudgetExhausted).
var ErrBudgetExhausted = errors.New("invocation time budget exhausted")

// Unlimited is what [Budget.Remaining] returns for a context without a
// deadline (a test, a local run): about 292 years.
const Unlimited time.Duration = math.MaxInt64

// Budget measures the time left in an invocation, keeping Margin in reserve
// before the context's deadline for the work that must still happen after a
// step gives up (report failures, release claims, write the response). The
// zero value keeps no margin and reads the system clock.
type Budget struct {
	// Margin is reserved before the deadline; it should not be negative.
	Margin time.Duration
	// Now returns the current time; nil means time.Now. It must read the
	// same clock as the context's deadline, which in Lambda is wall-clock
	// time; inject it to test Remaining and Fits.
	Now func() time.Time
}

func (b Budget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// limit returns the deadline minus the margin, and whether ctx has a deadline.
func (b Budget) limit(ctx context.Context) (time.Time, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}, false
	}
	return d.Add(-b.Margin), true
}

// Remaining returns the time left before ctx's deadline minus the margin.
// It is zero or negative when the budget is spent, and [Unlimited] when ctx
// has no deadline.
func (b Budget) Remaining(ctx context.Context) time.Duration {
	limit, ok := b.limit(ctx)
	if !ok {
		return Unlimited
	}
	return limit.Sub(b.now())
}

// Fits reports whether a unit of work expected to take d can finish before
// ctx's deadline minus the margin. Loops over pages, batches or records ask
// it before starting the next one, so that unstarted work is handed back
// (to a queue, a continuation invoke) rather than killed half-way.
func (b Budget) Fits(ctx context.Context, d time.Duration) bool {
	return d <= b.Remaining(ctx)
}

// Context returns a context for one downstream call: it ends after max, or
// at ctx's deadline minus the margin, whichever comes first. When the margin
// is what ends it, its cause is [ErrBudgetExhausted]; when the budget is
// already spent it is returned already done, so the call fails at once
// instead of starting work it cannot finish.
//
// An SDK call made with the invocation's own context runs until Lambda
// kills the function; one made with this context fails with time left to
// handle the failure.
func (b Budget) Context(ctx context.Context, max time.Duration) (context.Context, context.CancelFunc) {
	now := b.now()
	deadline := now.Add(max)
	limit, ok := b.limit(ctx)
	if !ok || deadline.Before(limit) {
		return context.WithDeadline(ctx, deadline)
	}
	// The budget ends first. A deadline in the past makes the context
	// done before it is returned.
	return context.WithDeadlineCause(ctx, limit, ErrBudgetExhausted)
}

// DefaultCallTimeout bounds one downstream call when [Calls.Timeout] is
// zero. A call that has not answered in 2 s, the SDK's retries included, is
// better failed with time left to handle the failure than waited on until
// Lambda kills the invocation.
const DefaultCallTimeout = 2 * time.Second

// Calls bounds each downstream call an adapter makes (a DynamoDB store, an
// SQS queue, an S3 reader): by Timeout, and by the invocation's deadline
// minus Budget.Margin, whichever ends first. An adapter keeps one as a field
// that main sets once, so the margin is chosen where the function is wired
// and every call the adapter makes honours it.
//
// The zero value bounds each call by [DefaultCallTimeout] and by the
// context's own deadline, keeping no margin.
type Calls struct {
	// Budget is the invocation's budget; its Margin is kept in reserve for
	// what must still happen after a call gives up.
	Budget Budget
	// Timeout bounds one call, the SDK's retries included; zero means
	// DefaultCallTimeout.
	Timeout time.Duration
}

// Context returns the context for one downstream call: [Budget.Context] with
// Timeout (or [DefaultCallTimeout]) as the call's own limit. Call the cancel
// function as soon as the call returns.
func (c Calls) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	return c.Budget.Context(ctx, cmp.Or(c.Timeout, DefaultCallTimeout))
}

// Activity is a watch on one invocation, started by [Watch]: it remembers
// the step in progress so that the warning before a timeout can name it.
type Activity struct {
	mu    sync.Mutex
	step  string
	timer *time.Timer // nil when the context has no deadline
}

// Watch starts a timer that fires at ctx's deadline minus b.Margin and logs
// at WARN "invocation about to time out", with the step set by the last
// [Activity.Doing] call ("doing") and the milliseconds left before the
// deadline ("remainingMs"). The warning is logged with ctx, so it carries the
// invocation's request and correlation IDs.
//
// Call Stop (usually deferred) when the handler returns: Lambda freezes the
// execution environment between invocations, and a timer left running would
// fire during a later one.
func Watch(ctx context.Context, log *slog.Logger, b Budget) *Activity {
	a := &Activity{}
	limit, ok := b.limit(ctx)
	if !ok {
		return a
	}
	deadline, _ := ctx.Deadline()
	a.timer = time.AfterFunc(limit.Sub(b.now()), func() {
		log.WarnContext(ctx, "invocation about to time out",
			"doing", a.current(),
			"remainingMs", deadline.Sub(b.now()).Milliseconds())
	})
	return a
}

// Doing records the step the invocation is now in, for the timeout warning.
// Name steps by what they wait on ("query ledger", "publish fanout batch 3").
func (a *Activity) Doing(step string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.step = step
}

func (a *Activity) current() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.step
}

// Stop cancels the timeout warning. It is safe to call more than once.
func (a *Activity) Stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}
