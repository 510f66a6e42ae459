package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

func TestParse(t *testing.T) {
	cfg, err := Parse([]byte(`
seed: 42
faults:
  - {kind: throttling, probability: 0.05, operation: dynamodb}
  - {kind: latency, probability: 0.1, delay: 200ms, function: SubmitJobFunction}
  - {kind: function-kill, probability: 0.01}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 42 || len(cfg.Faults) != 3 {
		t.Fatalf("got %+v; want seed 42 and 3 faults", cfg)
	}
	if got := cfg.Faults[1].Delay; got != 200*time.Millisecond {
		t.Errorf("latency delay = %v; want 200ms", got)
	}
	if got := cfg.Faults[2].Delay; got != defaultDelay {
		t.Errorf("kill window = %v; want the default %v", got, defaultDelay)
	}
	if _, err := Parse([]byte(`{"seed": 1, "faults": [{"kind": "internal-error", "probability": 1}]}`)); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

func TestParseRefusesWhatWouldTurnAFaultSilentlyOff(t *testing.T) {
	for _, doc := range []string{
		"faults: [{kind: throttle, probability: 0.1}]",
		"faults: [{kind: throttling, probability: 0}]",
		"faults: [{kind: throttling, probability: 1.5}]",
		"faults: [{kind: throttling, probabilty: 0.1}]",
		"faults: [{kind: latency, probability: 0.1, delay: -1s}]",
		"sead: 1",
		"maxFaultedReceives: -1",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%q) accepted it; want an error", doc)
		}
	}
}

// draws returns which of n decisions fire for an injector seeded with seed.
func draws(seed uint64, n int) string {
	in := New(Config{Seed: seed, Faults: []Rule{{Kind: Throttling, Probability: 0.5}}}, nil, nil, nil)
	var b strings.Builder
	for range n {
		if _, ok := in.decide(Target{Service: "dynamodb"}, Throttling); ok {
			b.WriteByte('x')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestSameSeedSameDecisions(t *testing.T) {
	a, b, other := draws(7, 64), draws(7, 64), draws(8, 64)
	if a != b {
		t.Errorf("seed 7 drew %s then %s; want the same", a, b)
	}
	if a == other {
		t.Errorf("seeds 7 and 8 both drew %s; want different sequences", a)
	}
	if !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("probability 0.5 drew %s; want some of each", a)
	}
}

func TestNilInjectorInjectsNothing(t *testing.T) {
	var in *Injector
	if _, ok := in.Gateway(Target{}, Kinds); ok {
		t.Error("nil injector decided a fault")
	}
	next := &fakeInvoker{}
	if got := in.Invoker(next, SourceSQS); got != Invoker(next) {
		t.Error("nil injector wrapped the invoker")
	}
}

// fakeInvoker counts invocations; with block set, each waits for its context to end.
type fakeInvoker struct {
	calls atomic.Int32
	block bool
	// concurrent is the most invocations seen running at once.
	mu                  sync.Mutex
	running, concurrent int
	release             chan struct{}
	// failOn makes the invocation with this number (1 for the first) fail, 0 none.
	failOn int32
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) (lambdapool.Result, error) {
	if n := f.calls.Add(1); n == f.failOn {
		return failed("Handled", "the fake failed"), nil
	}
	f.mu.Lock()
	f.running++
	f.concurrent = max(f.concurrent, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	if f.block {
		<-ctx.Done()
		return lambdapool.Result{}, ctx.Err()
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-time.After(time.Second):
		}
	}
	return lambdapool.Result{Payload: []byte(`{}`)}, nil
}

func injector(rules ...Rule) *Injector {
	return New(Config{Seed: 1, Faults: rules}, map[string]string{"local-Worker": "WorkerFunction"}, nil, nil)
}

func TestInvokerFunctionFaults(t *testing.T) {
	t.Run("lambda-throttle", func(t *testing.T) {
		next := &fakeInvoker{}
		_, err := injector(Rule{Kind: LambdaThrottle, Probability: 1}).Invoker(next, SourceSQS).Invoke(context.Background(), "local-Worker", nil)
		if !errors.Is(err, lambdapool.ErrThrottled) {
			t.Errorf("error = %v; want ErrThrottled", err)
		}
		if n := next.calls.Load(); n != 0 {
			t.Errorf("function invoked %d times; want 0", n)
		}
	})
	t.Run("init-failure", func(t *testing.T) {
		next := &fakeInvoker{}
		res, err := injector(Rule{Kind: InitFailure, Probability: 1}).Invoker(next, SourceHTTP).Invoke(context.Background(), "local-Worker", nil)
		if err != nil || res.Err == nil || res.Err.Type != "Runtime.InitError" {
			t.Errorf("got %+v, %v; want a Runtime.InitError failure", res, err)
		}
		if !strings.Contains(string(res.Payload), `"errorType":"Runtime.InitError"`) {
			t.Errorf("payload %s; want the error document", res.Payload)
		}
	})
	for kind, want := range map[Kind]string{FunctionKill: "Runtime.ExitError", FunctionTimeout: "Sandbox.Timedout"} {
		t.Run(string(kind), func(t *testing.T) {
			next := &fakeInvoker{block: true}
			in := injector(Rule{Kind: kind, Probability: 1, Delay: time.Millisecond})
			res, err := in.Invoker(next, SourceAsync).Invoke(context.Background(), "local-Worker", nil)
			if err != nil || res.Err == nil || res.Err.Type != want {
				t.Errorf("got %+v, %v; want a %s failure", res, err, want)
			}
			if got := in.Counts()[kind]; got != 1 {
				t.Errorf("counted %d; want 1", got)
			}
		})
	}
	t.Run("a kill after the function answered is no fault", func(t *testing.T) {
		next := &fakeInvoker{}
		in := injector(Rule{Kind: FunctionKill, Probability: 1, Delay: time.Hour})
		res, err := in.Invoker(next, SourceSQS).Invoke(context.Background(), "local-Worker", nil)
		if err != nil || res.Err != nil {
			t.Errorf("got %+v, %v; want the function's answer", res, err)
		}
		if got := in.Counts()[FunctionKill]; got != 0 {
			t.Errorf("counted %d kills; want 0", got)
		}
	})
	t.Run("scoped to another function", func(t *testing.T) {
		next := &fakeInvoker{}
		_, err := injector(Rule{Kind: LambdaThrottle, Probability: 1, Function: "OtherFunction"}).Invoker(next, SourceSQS).Invoke(context.Background(), "local-Worker", nil)
		if err != nil || next.calls.Load() != 1 {
			t.Errorf("got %v after %d calls; want one plain invocation", err, next.calls.Load())
		}
	})
}

func TestInvokerDeliveryFaults(t *testing.T) {
	tests := []struct {
		kind           Kind
		source         Source
		wantConcurrent int
	}{
		{SQSDuplicate, SourceSQS, 2},
		{SQSRedeliver, SourceSQS, 1},
		{AsyncDuplicate, SourceAsync, 2},
		{StreamRetry, SourceStream, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			next := &fakeInvoker{release: make(chan struct{})}
			if tt.wantConcurrent == 2 {
				go func() {
					// Let both run, once both are in (or after a second: then concurrent stays 1).
					for range 100 {
						next.mu.Lock()
						n := next.running
						next.mu.Unlock()
						if n == 2 {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					close(next.release)
				}()
			} else {
				close(next.release)
			}
			in := injector(Rule{Kind: tt.kind, Probability: 1})
			res, err := in.Invoker(next, tt.source).Invoke(context.Background(), "local-Worker", []byte(`{"a":1}`))
			if err != nil || res.Err != nil {
				t.Fatalf("got %+v, %v; want success", res, err)
			}
			if n := next.calls.Load(); n != 2 {
				t.Errorf("function invoked %d times; want 2", n)
			}
			if next.concurrent != tt.wantConcurrent {
				t.Errorf("at most %d ran at once; want %d", next.concurrent, tt.wantConcurrent)
			}
			if got := in.Counts()[tt.kind]; got != 1 {
				t.Errorf("counted %d; want 1", got)
			}
		})
	}
	t.Run("not from another source", func(t *testing.T) {
		next := &fakeInvoker{}
		_, _ = injector(Rule{Kind: SQSDuplicate, Probability: 1}).Invoker(next, SourceHTTP).Invoke(context.Background(), "local-Worker", nil)
		if n := next.calls.Load(); n != 1 {
			t.Errorf("an HTTP invocation ran %d times; want 1", n)
		}
	})
}

func TestInvokerDuplicateOutcomeIsTheOneAWSActsOn(t *testing.T) {
	tests := []struct {
		kind       Kind
		source     Source
		failOn     int32
		wantFailed bool
	}{
		// Two deliveries of an async event are two events: a failure of either is retried.
		{AsyncDuplicate, SourceAsync, 1, true},
		{AsyncDuplicate, SourceAsync, 2, true},
		// Two consumers of one message: the one that succeeds deletes it.
		{SQSDuplicate, SourceSQS, 1, false},
		{SQSDuplicate, SourceSQS, 2, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s, copy %d fails", tt.kind, tt.failOn), func(t *testing.T) {
			next := &fakeInvoker{failOn: tt.failOn}
			res, err := injector(Rule{Kind: tt.kind, Probability: 1}).Invoker(next, tt.source).Invoke(context.Background(), "local-Worker", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Err != nil; got != tt.wantFailed {
				t.Errorf("the source sees failed = %v; want %v", got, tt.wantFailed)
			}
		})
	}
}

// payloadRecorder records the payload of every invocation.
type payloadRecorder struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (p *payloadRecorder) Invoke(_ context.Context, _ string, payload []byte) (lambdapool.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.payloads = append(p.payloads, payload)
	return lambdapool.Result{Payload: []byte(`{}`)}, nil
}

// TestSQSRedeliveryIsAnotherReceive: SQS counts every receive, so the batch delivered again
// carries each record's ApproximateReceiveCount one higher, and nothing else changed.
func TestSQSRedeliveryIsAnotherReceive(t *testing.T) {
	event := func(counts ...int) events.SQSEvent {
		var e events.SQSEvent
		for i, n := range counts {
			e.Records = append(e.Records, events.SQSMessage{
				MessageId: fmt.Sprintf("m-%d", i), ReceiptHandle: fmt.Sprintf("rh-%d", i), Body: `{"jobId":"j-1"}`,
				Attributes:        map[string]string{"ApproximateReceiveCount": strconv.Itoa(n), "SentTimestamp": "1765000000000"},
				MessageAttributes: map[string]events.SQSMessageAttribute{"correlationId": {DataType: "String", StringValue: aws.String("c-1")}},
				EventSource:       "aws:sqs", EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:work", AWSRegion: "eu-west-1",
			})
		}
		return e
	}
	first, _ := json.Marshal(event(1, 2))
	next := &payloadRecorder{}
	if _, err := injector(Rule{Kind: SQSRedeliver, Probability: 1}).Invoker(next, SourceSQS).Invoke(context.Background(), "local-Worker", first); err != nil {
		t.Fatal(err)
	}
	if len(next.payloads) != 2 {
		t.Fatalf("%d deliveries; want 2", len(next.payloads))
	}
	var got events.SQSEvent
	if err := json.Unmarshal(next.payloads[1], &got); err != nil {
		t.Fatalf("the second delivery is no SQS event: %v", err)
	}
	if want := event(2, 3); !reflect.DeepEqual(got, want) {
		t.Errorf("second delivery\n%+v\nwant\n%+v", got, want)
	}
	if !bytes.Equal(next.payloads[0], first) {
		t.Errorf("first delivery %s; want the batch as received", next.payloads[0])
	}
}

// TestAMessageMeetsFaultsOnAtMostMaxFaultedReceives: with the cap, an SQS message whose receives
// met a fault that many times is delivered as it comes from then on; other messages still meet
// faults, and without the cap every receive may.
func TestAMessageMeetsFaultsOnAtMostMaxFaultedReceives(t *testing.T) {
	batch := func(ids ...string) []byte {
		var e events.SQSEvent
		for _, id := range ids {
			e.Records = append(e.Records, events.SQSMessage{MessageId: id, Body: "{}"})
		}
		doc, _ := json.Marshal(e)
		return doc
	}
	throttleAll := Config{Seed: 1, Faults: []Rule{{Kind: LambdaThrottle, Probability: 1}}}
	receive := func(in *Injector, source Source, payload []byte) bool {
		_, err := in.Invoker(&fakeInvoker{}, source).Invoke(context.Background(), "local-Worker", payload)
		return errors.Is(err, lambdapool.ErrThrottled)
	}

	capped := throttleAll
	capped.MaxFaultedReceives = 2
	in := New(capped, nil, nil, nil)
	var got []bool
	for range 4 {
		got = append(got, receive(in, SourceSQS, batch("m-1")))
	}
	if want := []bool{true, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("receives of m-1 throttled: %v; want %v", got, want)
	}
	if !receive(in, SourceSQS, batch("m-2")) {
		t.Error("another message's first receive met no fault; want it throttled")
	}
	if receive(in, SourceSQS, batch("m-2", "m-1")) {
		t.Error("a batch holding m-1 met a fault; want it spared")
	}
	if !receive(in, SourceHTTP, nil) {
		t.Error("an HTTP invocation met no fault; want the cap to apply to SQS messages only")
	}

	uncapped := New(throttleAll, nil, nil, nil)
	for i := range 4 {
		if !receive(uncapped, SourceSQS, batch("m-1")) {
			t.Errorf("without a cap, receive %d of m-1 met no fault; want every one throttled", i+1)
		}
	}
}
