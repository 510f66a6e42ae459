package sources

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// Lambda's defaults for asynchronous invocation when a function has no EventInvokeConfig.
const (
	DefaultMaximumRetryAttempts = 2
	DefaultMaximumEventAge      = 6 * time.Hour
)

// AsyncConfig is a function's EventInvokeConfig.
type AsyncConfig struct {
	// FunctionARN goes into destination records.
	FunctionARN string
	// MaximumRetryAttempts is how often a function error is retried (0 to 2).
	MaximumRetryAttempts int
	// MaximumEventAge drops an event not delivered within it (to OnFailure); 0 means the default.
	MaximumEventAge time.Duration
	// OnFailure receives the destination record of an event that failed every attempt or grew too
	// old; nil drops it with a log line, as Lambda does without a destination or DLQ.
	OnFailure Destination
	// OnSuccess receives the destination record of each successful invocation; nil sends nothing.
	OnSuccess Destination
}

// Destination is where Lambda sends an asynchronous invocation's record.
type Destination interface {
	Send(ctx context.Context, record []byte) error
}

// SQSSender is the part of the SQS client an SQS destination calls.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSDestination sends destination records to a queue.
type SQSDestination struct {
	SQS      SQSSender
	QueueURL string
}

// Send sends one record as a message.
func (d SQSDestination) Send(ctx context.Context, record []byte) error {
	_, err := d.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(d.QueueURL), MessageBody: aws.String(string(record))})
	if err != nil {
		return fmt.Errorf("send destination record to %s: %w", d.QueueURL, err)
	}
	return nil
}

// Async invokes functions as Lambda's asynchronous invocation does: Enqueue accepts the event at
// once (Lambda's 202) and puts it on an internal queue; workers invoke the function; a function
// error is retried up to MaximumRetryAttempts times with a growing back-off, and an event that
// failed every attempt, or outlived MaximumEventAge, goes to the OnFailure destination as a
// destination record. A throttled invoke is retried without counting as an attempt. Events are
// kept in memory only: stopping the runner drops what is still queued.
type Async struct {
	Invoker Invoker
	Log     *slog.Logger
	// Workers is how many events are delivered at once; 4 when zero.
	Workers int
	// RetryDelay is the first back-off after a function error, doubled for each further retry.
	// Lambda waits about a minute, then two; locally a second keeps tests and demos short.
	RetryDelay time.Duration
	// Now reads the clock for event ages and record timestamps; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	configs map[string]AsyncConfig
	queue   []*asyncEvent
	wake    chan struct{}
	stopped bool
}

// asyncEvent is one accepted event and how far its delivery got.
type asyncEvent struct {
	requestID string
	function  string
	payload   []byte
	accepted  time.Time
	attempts  int
	// last is the outcome of the last attempt, for the destination record.
	last lambdapool.Result
}

// Configure sets a function's EventInvokeConfig; functions without one get Lambda's defaults.
func (a *Async) Configure(function string, cfg AsyncConfig) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.configs == nil {
		a.configs = map[string]AsyncConfig{}
	}
	a.configs[function] = cfg
}

// Enqueue accepts an event for function and returns its request id without waiting for it to run.
func (a *Async) Enqueue(function string, payload []byte) string {
	ev := &asyncEvent{requestID: newRequestID(), function: function, payload: append([]byte(nil), payload...), accepted: a.now()}
	a.push(ev)
	return ev.requestID
}

func (a *Async) push(ev *asyncEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		a.Log.Warn("async invoke dropped: the runner is stopping", "function", ev.function, "requestId", ev.requestID)
		return
	}
	a.queue = append(a.queue, ev)
	a.signalLocked()
}

func (a *Async) signalLocked() {
	if a.wake == nil {
		a.wake = make(chan struct{}, 1)
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest queued event, or waits for one until ctx ends.
func (a *Async) pop(ctx context.Context) (*asyncEvent, bool) {
	for {
		a.mu.Lock()
		if len(a.queue) > 0 {
			ev := a.queue[0]
			a.queue = a.queue[1:]
			if len(a.queue) > 0 {
				a.signalLocked() // let another worker take the next one
			}
			a.mu.Unlock()
			return ev, true
		}
		if a.wake == nil {
			a.wake = make(chan struct{}, 1)
		}
		wake := a.wake
		a.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// Run delivers events until ctx ends; events still queued or waiting for a retry are then dropped.
func (a *Async) Run(ctx context.Context) {
	workers := a.Workers
	if workers <= 0 {
		workers = 4
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ev, ok := a.pop(ctx)
				if !ok {
					return
				}
				a.deliver(ctx, ev)
			}
		}()
	}
	wg.Wait()
	a.mu.Lock()
	a.stopped = true
	if n := len(a.queue); n > 0 {
		a.Log.Warn("async invokes dropped: the runner is stopping", "events", n)
	}
	a.queue = nil
	a.mu.Unlock()
}

// deliver makes one attempt and decides what follows: done, a retry later, or the destination.
func (a *Async) deliver(ctx context.Context, ev *asyncEvent) {
	cfg := a.config(ev.function)
	if a.now().Sub(ev.accepted) > cmp.Or(cfg.MaximumEventAge, DefaultMaximumEventAge) {
		a.fail(ctx, ev, cfg, "EventAgeExceeded")
		return
	}
	result, err := a.Invoker.Invoke(ctx, ev.function, ev.payload)
	switch {
	case errors.Is(err, lambdapool.ErrThrottled):
		// Lambda keeps throttled events for up to MaximumEventAge and does not count the attempt.
		a.later(ctx, ev, a.RetryDelay)
		return
	case err != nil:
		if ctx.Err() == nil {
			a.Log.Error("async invoke failed before reaching the function; event dropped", "function", ev.function, "requestId", ev.requestID, "error", err)
		}
		return
	}
	ev.attempts++
	ev.last = result
	if result.Err == nil {
		if cfg.OnSuccess != nil {
			a.send(ctx, ev, cfg, cfg.OnSuccess, "Success")
		}
		return
	}
	if ev.attempts <= cfg.MaximumRetryAttempts {
		delay := a.RetryDelay << (ev.attempts - 1)
		a.Log.Warn("async invoke failed; retrying", "function", ev.function, "requestId", ev.requestID,
			"attempt", ev.attempts, "retryIn", delay.String(), "errorType", result.Err.Type, "errorMessage", result.Err.Message)
		a.later(ctx, ev, delay)
		return
	}
	a.fail(ctx, ev, cfg, "RetriesExhausted")
}

// later puts ev back on the queue after d, unless ctx ends first.
func (a *Async) later(ctx context.Context, ev *asyncEvent, d time.Duration) {
	go func() {
		if sleep(ctx, d) {
			a.push(ev)
		}
	}()
}

// fail sends ev to the OnFailure destination, or drops it with a log line when there is none.
func (a *Async) fail(ctx context.Context, ev *asyncEvent, cfg AsyncConfig, condition string) {
	if cfg.OnFailure == nil {
		a.Log.Error("async invoke failed; no OnFailure destination, event dropped", "function", ev.function, "requestId", ev.requestID, "condition", condition, "attempts", ev.attempts)
		return
	}
	a.Log.Warn("async invoke failed; event sent to its OnFailure destination", "function", ev.function, "requestId", ev.requestID, "condition", condition, "attempts", ev.attempts)
	a.send(ctx, ev, cfg, cfg.OnFailure, condition)
}

func (a *Async) send(ctx context.Context, ev *asyncEvent, cfg AsyncConfig, to Destination, condition string) {
	record, err := json.Marshal(a.record(ev, cfg, condition))
	if err == nil {
		err = to.Send(ctx, record)
	}
	if err != nil {
		a.Log.Error("async invoke: destination record lost", "function", ev.function, "requestId", ev.requestID, "error", err)
	}
}

// DestinationRecord is the document Lambda sends to an asynchronous invocation's destination.
type DestinationRecord struct {
	Version         string                     `json:"version"`
	Timestamp       time.Time                  `json:"timestamp"`
	RequestContext  DestinationRequestContext  `json:"requestContext"`
	RequestPayload  json.RawMessage            `json:"requestPayload"`
	ResponseContext DestinationResponseContext `json:"responseContext"`
	ResponsePayload json.RawMessage            `json:"responsePayload,omitempty"`
}

// DestinationRequestContext says which invocation a destination record is about.
type DestinationRequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// DestinationResponseContext is how the last attempt ended.
type DestinationResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

func (a *Async) record(ev *asyncEvent, cfg AsyncConfig, condition string) DestinationRecord {
	r := DestinationRecord{
		Version:   "1.0",
		Timestamp: a.now().UTC(),
		RequestContext: DestinationRequestContext{
			RequestID: ev.requestID, FunctionARN: cfg.FunctionARN + ":$LATEST",
			Condition: condition, ApproximateInvokeCount: ev.attempts,
		},
		RequestPayload:  jsonOrString(ev.payload),
		ResponseContext: DestinationResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"},
	}
	if ev.attempts > 0 {
		r.ResponsePayload = jsonOrString(ev.last.Payload)
		if ev.last.Err != nil {
			r.ResponseContext.FunctionError = "Unhandled"
		}
	}
	return r
}

func (a *Async) config(function string) AsyncConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg, ok := a.configs[function]
	if !ok {
		cfg = AsyncConfig{MaximumRetryAttempts: DefaultMaximumRetryAttempts}
	}
	return cfg
}

func (a *Async) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// jsonOrString embeds valid JSON as it is and anything else as a JSON string.
func jsonOrString(b []byte) json.RawMessage {
	if len(b) > 0 && json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b)) // a string always marshals
	return s
}

// newRequestID returns a random UUID-shaped id, as Lambda's request ids are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
