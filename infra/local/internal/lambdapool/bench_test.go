//go:build unix

package lambdapool

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkInvokeWarm measures one invocation on a warm environment: the local Runtime API's
// overhead per event (the handler itself only echoes).
func BenchmarkInvokeWarm(b *testing.B) {
	p := New(Options{})
	defer p.Close()
	if err := p.Register(Function{Name: "echo", Executable: echoBinary}); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"echo":"ping"}`)
	if _, err := p.Invoke(context.Background(), "echo", payload); err != nil {
		b.Fatal(err) // the cold start, outside the timed loop
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := p.Invoke(context.Background(), "echo", payload)
		if err != nil || res.Err != nil {
			b.Fatalf("invoke: %v %v", err, res.Err)
		}
	}
}

// BenchmarkInvokeCold measures a cold start: a new process up to its first answer. Each
// iteration registers a fresh function so no environment is ever reused.
func BenchmarkInvokeCold(b *testing.B) {
	p := New(Options{IdleTimeout: 10 * time.Millisecond}) // reap each process soon after its one use
	defer p.Close()
	payload := []byte(`{"echo":"ping"}`)
	i := 0
	for b.Loop() {
		b.StopTimer()
		name := fmt.Sprintf("cold-%d", i)
		i++
		if err := p.Register(Function{Name: name, Executable: echoBinary}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := p.Invoke(context.Background(), name, payload)
		if err != nil || res.Err != nil {
			b.Fatalf("invoke: %v %v", err, res.Err)
		}
	}
}
