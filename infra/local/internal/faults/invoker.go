package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// Source is the event source an invocation comes from: a function or delivery fault's operation.
type Source string

// The event sources whose invocations can meet faults.
const (
	SourceHTTP      Source = "http"
	SourceSQS       Source = "sqs"
	SourceStream    Source = "stream"
	SourceAsync     Source = "async"
	SourceInvokeAPI Source = "invoke"
)

// Invoker runs a function synchronously; *lambdapool.Pool is one (the same shape as sources.Invoker).
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) (lambdapool.Result, error)
}

// deliveryKinds are the delivery faults each source can meet.
var deliveryKinds = map[Source][]Kind{
	SourceSQS:    {SQSDuplicate, SQSRedeliver},
	SourceAsync:  {AsyncDuplicate},
	SourceStream: {StreamRetry},
}

// Invoker returns next wrapped so that the invocations source makes meet the configured function
// and delivery faults; next itself when in is nil.
func (in *Injector) Invoker(next Invoker, source Source) Invoker {
	if in == nil {
		return next
	}
	return &invoker{in: in, next: next, source: source}
}

// invoker is an Invoker that injects faults.
type invoker struct {
	in     *Injector
	next   Invoker
	source Source
	// faulted, when not nil, is set when this delivery meets a fault, and the delivery of the
	// SQS messages ids is counted then (not after it: two deliveries of one message in flight at
	// once must not both pass the cap).
	faulted *atomic.Bool
	ids     []string
}

// Invoke delivers payload to function, subject to faults; an SQS message that met faults on
// Config.MaxFaultedReceives deliveries already is delivered as it comes, with no draw. Each invoke
// attempt counts as a delivery (the SQS source retries a throttled batch within one receive), so
// a message may be spared before two of its receives have failed: never later.
func (v *invoker) Invoke(ctx context.Context, function string, payload []byte) (lambdapool.Result, error) {
	if v.source != SourceSQS || v.in.cfg.MaxFaultedReceives == 0 {
		return v.deliver(ctx, function, payload)
	}
	ids := messageIDs(payload)
	if v.in.spared(ids) {
		return v.next.Invoke(ctx, function, payload)
	}
	receive := *v
	receive.faulted, receive.ids = new(atomic.Bool), ids
	return receive.deliver(ctx, function, payload)
}

// messageIDs are the ids of an SQS event's records.
func messageIDs(payload []byte) []string {
	var event struct {
		Records []struct {
			MessageID string `json:"messageId"`
		}
	}
	_ = json.Unmarshal(payload, &event) // no records: nothing to count
	ids := make([]string, 0, len(event.Records))
	for _, r := range event.Records {
		ids = append(ids, r.MessageID)
	}
	return ids
}

// injected counts and logs a fault this delivery met.
func (v *invoker) injected(d Decision, t Target, detail ...any) {
	v.in.injected(d, t, detail...)
	if v.faulted != nil && v.faulted.CompareAndSwap(false, true) {
		v.in.faultedReceive(v.ids)
	}
}

// deliver runs function once, or twice for a delivery fault, each run subject to function faults.
func (v *invoker) deliver(ctx context.Context, function string, payload []byte) (lambdapool.Result, error) {
	t := v.target(function)
	if kinds := deliveryKinds[v.source]; len(kinds) > 0 {
		if d, ok := v.in.decide(t, kinds...); ok {
			v.injected(d, t)
			if d.Kind == SQSDuplicate || d.Kind == AsyncDuplicate {
				return v.concurrently(ctx, function, payload, d.Kind == AsyncDuplicate)
			}
			// Delivered, processed, then delivered again: the first answer is lost.
			if _, err := v.once(ctx, function, payload); err != nil && ctx.Err() != nil {
				return lambdapool.Result{}, err
			}
			if d.Kind == SQSRedeliver {
				payload = receivedAgain(payload)
			}
		}
	}
	return v.once(ctx, function, payload)
}

// receivedAgain is an SQS event as its next receive delivers it: SQS counts every receive, so each
// record's ApproximateReceiveCount is one higher (jobs records it as the attempt; a redrive policy
// counts it). Anything else in the event is kept as it was; a payload that is no SQS event, as
// it is.
func receivedAgain(payload []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var event map[string]any
	if dec.Decode(&event) != nil {
		return payload
	}
	records, _ := event["Records"].([]any)
	for _, r := range records {
		record, _ := r.(map[string]any)
		attributes, _ := record["attributes"].(map[string]any)
		count, ok := attributes["ApproximateReceiveCount"].(string)
		n, err := strconv.Atoi(count)
		if !ok || err != nil {
			continue
		}
		attributes["ApproximateReceiveCount"] = strconv.Itoa(n + 1)
	}
	again, err := json.Marshal(event)
	if err != nil {
		return payload
	}
	return again
}

// concurrently runs two invocations of the same payload at once. Which outcome the source sees
// follows what the duplicate is on AWS. Two deliveries of one async event are two events, each
// retried on its own: a failure of either must be retried (failureWins). Two consumers of one SQS
// message share it: the one that succeeds deletes it, so it is retried only when both failed.
func (v *invoker) concurrently(ctx context.Context, function string, payload []byte, failureWins bool) (lambdapool.Result, error) {
	type outcome struct {
		res lambdapool.Result
		err error
	}
	var other outcome
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		other.res, other.err = v.once(ctx, function, payload)
	}()
	res, err := v.once(ctx, function, payload)
	wg.Wait()
	firstFailed := err != nil || res.Err != nil
	otherFailed := other.err != nil || other.res.Err != nil
	if firstFailed != otherFailed && firstFailed != failureWins {
		return other.res, other.err
	}
	return res, err
}

// once runs one invocation, subject to function faults.
func (v *invoker) once(ctx context.Context, function string, payload []byte) (lambdapool.Result, error) {
	t := v.target(function)
	d, ok := v.in.decide(t, LambdaThrottle, InitFailure, FunctionKill, FunctionTimeout)
	if !ok {
		return v.next.Invoke(ctx, function, payload)
	}
	switch d.Kind {
	case LambdaThrottle:
		v.injected(d, t)
		return lambdapool.Result{}, fmt.Errorf("invoke %s: %w (fault injected)", function, lambdapool.ErrThrottled)
	case InitFailure:
		v.injected(d, t)
		return failed("Runtime.InitError", "RequestId: fault-injected Error: Runtime exited during init (fault injected)"), nil
	}
	// Cut the invocation after d.Delay: the pool kills an environment whose caller gives up.
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(d.Delay, cancel)
	res, err := v.next.Invoke(cut, function, payload)
	if timer.Stop() || ctx.Err() != nil || err == nil {
		return res, err // the invocation ended before the cut: no fault
	}
	v.injected(d, t, "after", d.Delay.String())
	if d.Kind == FunctionTimeout {
		return failed("Sandbox.Timedout", fmt.Sprintf("RequestId: fault-injected Error: Task timed out after %.2f seconds (fault injected)", d.Delay.Seconds())), nil
	}
	return failed("Runtime.ExitError", "RequestId: fault-injected Error: Runtime exited with error: signal: killed (fault injected)"), nil
}

// target is what a fault of function's invocation hits.
func (v *invoker) target(function string) Target {
	id := v.in.logicalIDs[function]
	if id == "" {
		id = function
	}
	return Target{Function: id, Service: "lambda", Operation: string(v.source), Resource: function}
}

// failed is an invocation's failure as the pool reports it: Err set, the error document as payload.
func failed(typ, message string) lambdapool.Result {
	e := &lambdapool.FunctionError{Type: typ, Message: message}
	doc, _ := json.Marshal(e) // two strings always marshal
	return lambdapool.Result{Payload: doc, Err: e}
}
