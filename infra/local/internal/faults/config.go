package faults

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind is one fault AWS delivers.
type Kind string

// Service errors, latency and lost answers, injected at the stand-ins' front.
const (
	// ThroughputExceeded is DynamoDB's ProvisionedThroughputExceededException (400).
	ThroughputExceeded Kind = "throughput-exceeded"
	// Throttling is DynamoDB's ThrottlingException, SQS's RequestThrottled, SNS's Throttling (400)
	// and S3's SlowDown (503).
	Throttling Kind = "throttling"
	// TransactionConflict is DynamoDB's TransactionConflictException (400).
	TransactionConflict Kind = "transaction-conflict"
	// InternalError is the service's HTTP 500.
	InternalError Kind = "internal-error"
	// Latency delays the request by Rule.Delay before it reaches the stand-in.
	Latency Kind = "latency"
	// ResetAfterApply forwards the request, lets the stand-in apply it, then resets the
	// connection: the write happened, the answer is lost.
	ResetAfterApply Kind = "reset-after-apply"
)

// Delivery faults, injected around an event source's invocation.
const (
	// SQSDuplicate delivers a batch to two consumers at once (two concurrent invocations).
	SQSDuplicate Kind = "sqs-duplicate"
	// SQSRedeliver delivers a batch again once it was processed, as when the visibility timeout
	// ran out before the delete, each record's ApproximateReceiveCount one higher.
	SQSRedeliver Kind = "sqs-redeliver"
	// AsyncDuplicate delivers an asynchronous invocation twice.
	AsyncDuplicate Kind = "async-duplicate"
	// StreamRetry invokes a DynamoDB stream batch again after it was processed, as when the
	// mapping retries a batch whose answer it did not get.
	StreamRetry Kind = "stream-retry"
)

// Function faults, injected around an invocation.
const (
	// FunctionKill kills the environment at a random point within Rule.Delay of the invocation's
	// start (Runtime.ExitError).
	FunctionKill Kind = "function-kill"
	// FunctionTimeout ends the invocation at a random point within Rule.Delay, reported as
	// Lambda reports a timeout (Sandbox.Timedout); the environment is killed.
	FunctionTimeout Kind = "function-timeout"
	// InitFailure fails the invocation before the handler runs, as a failed cold start does
	// (Runtime.InitError).
	InitFailure Kind = "init-failure"
	// LambdaThrottle answers the invocation with Lambda's 429 (TooManyRequestsException).
	LambdaThrottle Kind = "lambda-throttle"
)

// Kinds lists every kind, in the order the README's fault table has them.
var Kinds = []Kind{
	ThroughputExceeded, Throttling, TransactionConflict, InternalError, Latency, ResetAfterApply,
	SQSDuplicate, SQSRedeliver, AsyncDuplicate, StreamRetry,
	FunctionKill, FunctionTimeout, InitFailure, LambdaThrottle,
}

// defaultDelay is Rule.Delay when a rule that needs one leaves it out.
const defaultDelay = time.Second

// Config is a fault file.
type Config struct {
	// Seed makes a run replayable; the same seed draws the same decisions.
	Seed uint64 `yaml:"seed"`
	// Faults are the rules, tried in order; the first that matches and fires decides.
	Faults []Rule `yaml:"faults"`
	// MaxFaultedReceives, when above 0, spares an SQS message from function and delivery faults
	// once that many of its deliveries met one: later deliveries of it, and of any batch holding
	// it, run as they come, without a draw. On AWS any receive may meet a fault, and a message
	// whose every receive did lands in the dead-letter queue; a run that checks promises (the
	// soak) caps it below the queues' maxReceiveCount, so that such a message is less likely bad
	// luck than a broken promise. Service faults are not capped.
	MaxFaultedReceives int `yaml:"maxFaultedReceives"`
}

// Rule is one fault, how often and where.
type Rule struct {
	Kind Kind `yaml:"kind"`
	// Probability is the chance, 0 to 1, that a matching request or invocation meets the fault.
	Probability float64 `yaml:"probability"`
	// Function limits the rule to one function, by logical ID; empty for all.
	Function string `yaml:"function"`
	// Operation limits the rule to an IAM action (dynamodb:PutItem) or a service (dynamodb); for
	// function and delivery faults to an event source (http, sqs, stream, async, invoke).
	Operation string `yaml:"operation"`
	// Resource limits the rule to requests whose ARN contains it (a table or queue name).
	Resource string `yaml:"resource"`
	// Delay is the latency added (Latency), or the window in which the invocation is cut
	// (FunctionKill, FunctionTimeout); 1s when left out.
	Delay time.Duration `yaml:"delay"`
}

// Load reads a fault file: YAML, or JSON (which YAML includes). Unknown fields, unknown kinds and
// probabilities outside 0 to 1 are refused, so that a typo never turns a fault silently off.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read faults: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("faults %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and checks a fault file's contents.
func Parse(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("decode: %w", err)
	}
	if cfg.MaxFaultedReceives < 0 {
		return Config{}, fmt.Errorf("maxFaultedReceives %d; want 0 (no cap) or more", cfg.MaxFaultedReceives)
	}
	for i, r := range cfg.Faults {
		if !slices.Contains(Kinds, r.Kind) {
			return Config{}, fmt.Errorf("fault %d: unknown kind %q (known: %v)", i+1, r.Kind, Kinds)
		}
		if r.Probability <= 0 || r.Probability > 1 {
			return Config{}, fmt.Errorf("fault %d (%s): probability %v; want more than 0, at most 1", i+1, r.Kind, r.Probability)
		}
		if r.Delay < 0 {
			return Config{}, fmt.Errorf("fault %d (%s): negative delay %v", i+1, r.Kind, r.Delay)
		}
		if r.Delay == 0 {
			cfg.Faults[i].Delay = defaultDelay
		}
	}
	return cfg, nil
}
