package budget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// deadlineCtx returns a context whose deadline is epoch+d. Tests that use
// it pair it with a Budget reading a fake clock near epoch and only inspect
// deadlines; they never wait on the context.
func deadlineCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), epoch.Add(d))
	t.Cleanup(cancel)
	return ctx
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestRemaining(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // from epoch; 0 means no deadline
		margin   time.Duration
		now      time.Time
		want     time.Duration
	}{
		{"time left", 10 * time.Second, 2 * time.Second, epoch, 8 * time.Second},
		{"inside margin", 10 * time.Second, 2 * time.Second, epoch.Add(9 * time.Second), -time.Second},
		{"no margin", 10 * time.Second, 0, epoch.Add(4 * time.Second), 6 * time.Second},
		{"no deadline", 0, 2 * time.Second, epoch, Unlimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline != 0 {
				ctx = deadlineCtx(t, tt.deadline)
			}
			b := Budget{Margin: tt.margin, Now: at(tt.now)}
			if got := b.Remaining(ctx); got != tt.want {
				t.Errorf("Remaining() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFits(t *testing.T) {
	ctx := deadlineCtx(t, 10*time.Second)
	b := Budget{Margin: 2 * time.Second, Now: at(epoch.Add(3 * time.Second))} // 5 s left
	tests := []struct {
		d    time.Duration
		want bool
	}{
		{4 * time.Second, true},
		{5 * time.Second, true},
		{6 * time.Second, false},
	}
	for _, tt := range tests {
		if got := b.Fits(ctx, tt.d); got != tt.want {
			t.Errorf("Fits(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
	if !b.Fits(context.Background(), time.Hour) {
		t.Error("Fits(no deadline, 1h) = false, want true")
	}
}

func TestContextDeadline(t *testing.T) {
	tests := []struct {
		name         string
		max          time.Duration
		wantDeadline time.Duration // from epoch
	}{
		{"max first", 3 * time.Second, 3 * time.Second},
		{"budget first", 30 * time.Second, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Budget{Margin: 2 * time.Second, Now: at(epoch)}
			ctx, cancel := b.Context(deadlineCtx(t, 10*time.Second), tt.max)
			defer cancel()
			got, ok := ctx.Deadline()
			if !ok || !got.Equal(epoch.Add(tt.wantDeadline)) {
				t.Errorf("Deadline() = %v, %v, want %v", got, ok, epoch.Add(tt.wantDeadline))
			}
		})
	}
}

func TestContextWithoutDeadline(t *testing.T) {
	b := Budget{Margin: time.Second, Now: at(epoch)}
	ctx, cancel := b.Context(context.Background(), 3*time.Second)
	defer cancel()
	if got, ok := ctx.Deadline(); !ok || !got.Equal(epoch.Add(3*time.Second)) {
		t.Errorf("Deadline() = %v, %v, want %v", got, ok, epoch.Add(3*time.Second))
	}
}

func TestCallsContextDeadline(t *testing.T) {
	budget := func(margin time.Duration) Budget { return Budget{Margin: margin, Now: at(epoch)} }
	tests := []struct {
		name         string
		calls        Calls
		deadline     time.Duration // the invocation's, from epoch; 0 means none
		wantDeadline time.Duration // the call's, from epoch
	}{
		{"default timeout first", Calls{Budget: budget(2 * time.Second)}, 10 * time.Second, DefaultCallTimeout},
		{"own timeout first", Calls{Budget: budget(2 * time.Second), Timeout: 5 * time.Second}, 10 * time.Second, 5 * time.Second},
		{"margin before own timeout", Calls{Budget: budget(2 * time.Second), Timeout: time.Minute}, 10 * time.Second, 8 * time.Second},
		{"margin before default timeout", Calls{Budget: budget(9 * time.Second)}, 10 * time.Second, time.Second},
		{"no margin", Calls{Budget: budget(0), Timeout: time.Minute}, 10 * time.Second, 10 * time.Second},
		{"no deadline, own timeout", Calls{Budget: budget(2 * time.Second), Timeout: 5 * time.Second}, 0, 5 * time.Second},
		{"no deadline, default timeout", Calls{Budget: budget(2 * time.Second)}, 0, DefaultCallTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline != 0 {
				ctx = deadlineCtx(t, tt.deadline)
			}
			callCtx, cancel := tt.calls.Context(ctx)
			defer cancel()
			got, ok := callCtx.Deadline()
			if want := epoch.Add(tt.wantDeadline); !ok || !got.Equal(want) {
				t.Errorf("Deadline() = %v, %v, want %v", got, ok, want)
			}
		})
	}
}

func TestContextExhausted(t *testing.T) {
	// Real clock: 10 ms left, 50 ms margin, so the budget is already spent.
	parent, cancelParent := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelParent()
	ctx, cancel := Budget{Margin: 50 * time.Millisecond}.Context(parent, time.Minute)
	defer cancel()

	select {
	case <-ctx.Done():
	default:
		t.Fatal("context not done although the budget is spent")
	}
	if !errors.Is(context.Cause(ctx), ErrBudgetExhausted) {
		t.Errorf("Cause() = %v, want ErrBudgetExhausted", context.Cause(ctx))
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err() = %v, want DeadlineExceeded", ctx.Err())
	}
}

func TestContextBudgetEndsCall(t *testing.T) {
	parent, cancelParent := context.WithTimeout(context.Background(), time.Minute)
	defer cancelParent()
	// The margin leaves 30 ms of the parent's minute.
	ctx, cancel := Budget{Margin: time.Minute - 30*time.Millisecond}.Context(parent, time.Hour)
	defer cancel()
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), ErrBudgetExhausted) {
		t.Errorf("Cause() = %v, want ErrBudgetExhausted", context.Cause(ctx))
	}
}

func TestContextOwnTimeoutHasNoBudgetCause(t *testing.T) {
	parent, cancelParent := context.WithTimeout(context.Background(), time.Minute)
	defer cancelParent()
	ctx, cancel := Budget{Margin: time.Second}.Context(parent, 10*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if got := context.Cause(ctx); !errors.Is(got, context.DeadlineExceeded) || errors.Is(got, ErrBudgetExhausted) {
		t.Errorf("Cause() = %v, want DeadlineExceeded only", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the timer goroutine to write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWatchWarnsBeforeTimeout(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()

	a := Watch(ctx, log, Budget{Margin: 50 * time.Millisecond})
	defer a.Stop()
	a.Doing("query ledger")

	// Wait for the line rather than for a time: a loaded machine may run
	// the timer late, and the test is about what is logged, not when.
	giveUp := time.After(10 * time.Second)
	var logged string
	for logged == "" {
		select {
		case <-time.After(5 * time.Millisecond):
			logged = out.String()
		case <-giveUp:
			t.Fatal("no warning logged")
		}
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logged)), &line); err != nil {
		t.Fatalf("decode log %q: %v", out.String(), err)
	}
	if line["level"] != "WARN" || line["msg"] != "invocation about to time out" {
		t.Errorf("log = %v, want WARN invocation about to time out", line)
	}
	if line["doing"] != "query ledger" {
		t.Errorf("doing = %v, want query ledger", line["doing"])
	}
	if _, ok := line["remainingMs"].(float64); !ok {
		t.Errorf("remainingMs = %v, want a number", line["remainingMs"])
	}
}

func TestWatchStopped(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()

	a := Watch(ctx, log, Budget{Margin: 50 * time.Millisecond})
	a.Stop()
	a.Stop()
	<-ctx.Done()
	// The timer was due 50 ms before ctx ended; had Stop not cancelled it,
	// it would have logged by now.
	if got := out.String(); got != "" {
		t.Errorf("log = %q, want nothing after Stop", got)
	}
}

func TestWatchWithoutDeadline(t *testing.T) {
	var out syncBuffer
	a := Watch(context.Background(), slog.New(slog.NewJSONHandler(&out, nil)), Budget{})
	a.Doing("anything")
	a.Stop()
	if got := out.String(); got != "" {
		t.Errorf("log = %q, want nothing", got)
	}
}
