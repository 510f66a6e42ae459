//go:build unix

package lambdapool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// countingObserver records what the pool tells it.
type countingObserver struct {
	mu        sync.Mutex
	invoked   []observed
	throttled []string
}

type observed struct {
	function     string
	d            time.Duration
	cold, failed bool
}

func (o *countingObserver) Invoked(function string, d time.Duration, cold, failed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invoked = append(o.invoked, observed{function, d, cold, failed})
}

func (o *countingObserver) Throttled(function string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttled = append(o.throttled, function)
}

func TestObserverCountsInvocationsColdStartsErrorsAndThrottles(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	p := newTestPool(t, Options{Observer: obs})
	registerEcho(t, p, Function{Name: "observed", ReservedConcurrency: 1, Timeout: 10 * time.Second})

	invokeOK(t, p, "observed", echoRequest{})                                        // cold
	invokeOK(t, p, "observed", echoRequest{SleepMS: 20})                             // warm, at least 20 ms
	if res := invoke(t, p, "observed", echoRequest{Error: "boom"}); res.Err == nil { // warm, failed
		t.Fatal("want a function error")
	}
	if res := invoke(t, p, "observed", echoRequest{Exit: new(2)}); res.Err == nil { // crash: failed
		t.Fatal("want a crash")
	}
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan struct{})
	go func() {
		defer close(done)
		invokeOK(t, p, "observed", echoRequest{WaitFile: release}) // a new environment: cold
	}()
	waitFor(t, "the invocation holds the only slot", func() bool { return inflight(p, "observed") == 1 })
	if _, err := p.Invoke(context.Background(), "observed", []byte(`{}`)); !errors.Is(err, ErrThrottled) {
		t.Fatalf("invoke at the limit: %v; want ErrThrottled", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	<-done

	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []struct{ cold, failed bool }{{true, false}, {false, false}, {false, true}, {false, true}, {true, false}}
	if len(obs.invoked) != len(want) {
		t.Fatalf("observed %d invocations %+v; want %d", len(obs.invoked), obs.invoked, len(want))
	}
	for i, w := range want {
		got := obs.invoked[i]
		if got.function != "observed" || got.cold != w.cold || got.failed != w.failed {
			t.Errorf("invocation %d = %+v; want cold %v, failed %v", i, got, w.cold, w.failed)
		}
	}
	if d := obs.invoked[1].d; d < 20*time.Millisecond {
		t.Errorf("duration of a 20 ms invocation = %v; want at least 20 ms", d)
	}
	if len(obs.throttled) != 1 || obs.throttled[0] != "observed" {
		t.Errorf("throttles = %v; want one of observed", obs.throttled)
	}
}
