package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// recordingDestination keeps every record sent to it.
type recordingDestination struct {
	mu      sync.Mutex
	records []DestinationRecord
}

func (d *recordingDestination) Send(_ context.Context, record []byte) error {
	var r DestinationRecord
	if err := json.Unmarshal(record, &r); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records = append(d.records, r)
	return nil
}

func (d *recordingDestination) Records() []DestinationRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DestinationRecord(nil), d.records...)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

// waitFor polls cond until it holds, failing the test after a generous while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// failing answers a function error for the first n calls, then succeeds.
func failing(n int) func(context.Context, string, []byte) (lambdapool.Result, error) {
	var calls atomic.Int32
	return func(context.Context, string, []byte) (lambdapool.Result, error) {
		if int(calls.Add(1)) <= n {
			return lambdapool.Result{Payload: []byte(`{"errorType":"errorString","errorMessage":"boom"}`), Err: &lambdapool.FunctionError{Type: "errorString", Message: "boom"}}, nil
		}
		return lambdapool.Result{Payload: []byte(`null`)}, nil
	}
}

func startAsync(t *testing.T, a *Async) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func TestAsyncRetriesThenSendsToOnFailure(t *testing.T) {
	tests := []struct {
		name        string
		failures    int
		configure   bool
		retries     int
		wantInvokes int
		wantRecord  bool
	}{
		{name: "succeeds at once", failures: 0, configure: true, retries: 2, wantInvokes: 1},
		{name: "succeeds on a retry", failures: 1, configure: true, retries: 2, wantInvokes: 2},
		{name: "no retries", failures: 5, configure: true, retries: 0, wantInvokes: 1, wantRecord: true},
		{name: "retries exhausted", failures: 5, configure: true, retries: 1, wantInvokes: 2, wantRecord: true},
		{name: "default is two retries", failures: 5, configure: false, wantInvokes: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: failing(tt.failures)}
			dest := &recordingDestination{}
			a := &Async{Invoker: inv, Log: quietLogger(), RetryDelay: time.Millisecond}
			if tt.configure {
				a.Configure("fn", AsyncConfig{FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn", MaximumRetryAttempts: tt.retries, OnFailure: dest})
			}
			startAsync(t, a)
			id := a.Enqueue("fn", []byte(`{"Records":[{"eventName":"ObjectCreated:Put"}]}`))

			waitFor(t, "the invocations", func() bool { return len(inv.Calls()) >= tt.wantInvokes })
			if tt.wantRecord {
				waitFor(t, "the destination record", func() bool { return len(dest.Records()) == 1 })
			}
			// Give a wrong implementation the chance to invoke again or send a record.
			time.Sleep(20 * time.Millisecond)
			if got := len(inv.Calls()); got != tt.wantInvokes {
				t.Errorf("invocations = %d; want %d", got, tt.wantInvokes)
			}
			records := dest.Records()
			if !tt.wantRecord {
				if len(records) != 0 {
					t.Errorf("destination records = %+v; want none", records)
				}
				return
			}
			if len(records) != 1 {
				t.Fatalf("destination records = %d; want 1", len(records))
			}
			r := records[0]
			if r.RequestContext.RequestID != id || r.RequestContext.Condition != "RetriesExhausted" || r.RequestContext.ApproximateInvokeCount != tt.wantInvokes {
				t.Errorf("requestContext = %+v; want request %s, RetriesExhausted after %d invokes", r.RequestContext, id, tt.wantInvokes)
			}
			if r.RequestContext.FunctionARN != "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST" {
				t.Errorf("functionArn = %q; want the function's ARN with $LATEST", r.RequestContext.FunctionARN)
			}
			if string(r.RequestPayload) != `{"Records":[{"eventName":"ObjectCreated:Put"}]}` {
				t.Errorf("requestPayload = %s; want the event as sent", r.RequestPayload)
			}
			if r.ResponseContext.FunctionError != "Unhandled" || r.ResponseContext.StatusCode != 200 {
				t.Errorf("responseContext = %+v; want statusCode 200, functionError Unhandled", r.ResponseContext)
			}
			var resp map[string]string
			if err := json.Unmarshal(r.ResponsePayload, &resp); err != nil || resp["errorMessage"] != "boom" {
				t.Errorf("responsePayload = %s; want the last error document", r.ResponsePayload)
			}
		})
	}
}

func TestAsyncThrottledInvokesDoNotCountAsAttempts(t *testing.T) {
	var calls atomic.Int32
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
		if calls.Add(1) <= 3 {
			return lambdapool.Result{}, lambdapool.ErrThrottled
		}
		return lambdapool.Result{Payload: []byte(`null`)}, nil
	}}
	dest := &recordingDestination{}
	a := &Async{Invoker: inv, Log: quietLogger(), RetryDelay: time.Millisecond}
	a.Configure("fn", AsyncConfig{MaximumRetryAttempts: 0, OnFailure: dest})
	startAsync(t, a)
	a.Enqueue("fn", []byte(`{}`))

	waitFor(t, "a successful invocation", func() bool { return calls.Load() == 4 })
	time.Sleep(20 * time.Millisecond)
	if got := calls.Load(); got != 4 || len(dest.Records()) != 0 {
		t.Errorf("calls = %d, records = %d; want 4 calls (3 throttled) and no failure record", got, len(dest.Records()))
	}
}

func TestAsyncEventTooOldGoesToOnFailureUninvoked(t *testing.T) {
	var now atomic.Int64
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now.Store(t0.UnixNano())
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
		return lambdapool.Result{}, lambdapool.ErrThrottled
	}}
	dest := &recordingDestination{}
	a := &Async{Invoker: inv, Log: quietLogger(), RetryDelay: time.Millisecond, Now: func() time.Time { return time.Unix(0, now.Load()) }}
	a.Configure("fn", AsyncConfig{MaximumRetryAttempts: 2, MaximumEventAge: time.Minute, OnFailure: dest})
	startAsync(t, a)
	a.Enqueue("fn", []byte(`{"a":1}`))
	waitFor(t, "a throttled attempt", func() bool { return len(inv.Calls()) > 0 })
	now.Store(t0.Add(2 * time.Minute).UnixNano())

	waitFor(t, "the destination record", func() bool { return len(dest.Records()) == 1 })
	r := dest.Records()[0]
	if r.RequestContext.Condition != "EventAgeExceeded" || r.RequestContext.ApproximateInvokeCount != 0 {
		t.Errorf("requestContext = %+v; want EventAgeExceeded with no counted invocation", r.RequestContext)
	}
	if len(r.ResponsePayload) != 0 {
		t.Errorf("responsePayload = %s; want none for an event never run", r.ResponsePayload)
	}
}

func TestAsyncEnqueueDoesNotWait(t *testing.T) {
	release := make(chan struct{})
	inv := &fakeInvoker{respond: func(ctx context.Context, _ string, _ []byte) (lambdapool.Result, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return lambdapool.Result{Payload: []byte(`null`)}, nil
	}}
	a := &Async{Invoker: inv, Log: quietLogger(), Workers: 1}
	startAsync(t, a)
	defer close(release)
	ids := map[string]bool{}
	for range 3 {
		ids[a.Enqueue("fn", []byte(`{}`))] = true // would block forever if Enqueue waited for the invocation
	}
	if len(ids) != 3 {
		t.Errorf("request ids = %v; want 3 distinct ids", ids)
	}
}
