package jobs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/go-serverless/reference/shared/invalid"
)

// Status is where a job is in its life.
type Status string

// The statuses a job moves through; see the package documentation for the transitions.
const (
	StatusPending   Status = "PENDING"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
)

// Done reports whether the status is final: nothing changes a job after it.
func (s Status) Done() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusTimedOut
}

// Outcome tells the simulated work how to end, so tests and demos can steer every path.
type Outcome string

// The outcomes a caller may ask the simulated work for.
const (
	// OutcomeSucceed is the default: the work sleeps DurationMS and succeeds.
	OutcomeSucceed Outcome = "succeed"
	// OutcomeFail is a business failure: the task itself is wrong, retrying cannot help, the job ends FAILED.
	OutcomeFail Outcome = "fail"
	// OutcomePoison fails on every attempt as an outage downstream would: the message is retried,
	// lands in the dead-letter queue, and the last attempt marks the job FAILED.
	OutcomePoison Outcome = "poison"
)

// Limits on what a caller may submit.
const (
	MaxTaskLength = 100
	MaxDuration   = 20 * time.Second
)

// Input is what a caller submits: a task name and how the simulated work should behave.
type Input struct {
	Task       string  `json:"task" dynamodbav:"task"`
	DurationMS int     `json:"durationMs" dynamodbav:"durationMs"`
	Outcome    Outcome `json:"outcome,omitempty" dynamodbav:"outcome,omitempty"`
}

// Validate checks the input and fills defaults; it returns an *invalid.Param naming the first bad
// field.
func (in *Input) Validate() error {
	switch n := utf8.RuneCountInString(in.Task); {
	case n == 0:
		return &invalid.Param{Name: "task", Reason: "is required"}
	case n > MaxTaskLength:
		return &invalid.Param{Name: "task", Reason: fmt.Sprintf("must be at most %d characters", MaxTaskLength)}
	}
	// Compared in milliseconds: converted to a time.Duration first, 9223372036855 ms would wrap
	// past the int64 of nanoseconds and pass as a few milliseconds.
	if in.DurationMS < 0 || int64(in.DurationMS) > MaxDuration.Milliseconds() {
		return &invalid.Param{Name: "durationMs", Reason: fmt.Sprintf("must be between 0 and %d", MaxDuration.Milliseconds())}
	}
	switch in.Outcome {
	case "":
		in.Outcome = OutcomeSucceed
	case OutcomeSucceed, OutcomeFail, OutcomePoison:
	default:
		return &invalid.Param{Name: "outcome", Reason: `must be one of "succeed", "fail", "poison"`}
	}
	return nil
}

// Result is what a job that succeeded produced.
type Result struct {
	Output     string `json:"output" dynamodbav:"output"`
	DurationMS int    `json:"durationMs" dynamodbav:"durationMs"`
}

// Failure says why a job ended FAILED or TIMED_OUT, in words safe to show its owner.
type Failure struct {
	Reason string `json:"reason" dynamodbav:"reason"`
	Detail string `json:"detail" dynamodbav:"detail"`
}

// Job is one unit of slow work and everything a poller may ask about it.
type Job struct {
	ID            string     `dynamodbav:"jobId"`
	Owner         string     `dynamodbav:"owner"`
	Status        Status     `dynamodbav:"status"`
	Input         Input      `dynamodbav:"input"`
	Result        *Result    `dynamodbav:"result,omitempty"`
	Failure       *Failure   `dynamodbav:"failure,omitempty"`
	Attempts      int        `dynamodbav:"attempts"`
	CorrelationID string     `dynamodbav:"correlationId,omitempty"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	StartedAt     *time.Time `dynamodbav:"startedAt,omitempty"`
	FinishedAt    *time.Time `dynamodbav:"finishedAt,omitempty"`
	// Deadline is when a job not yet done counts as TIMED_OUT.
	Deadline time.Time `dynamodbav:"deadline,unixtime"`
	// ExpiresAt is the table's TTL attribute (epoch seconds): DynamoDB deletes the job after it.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// PastDeadline reports whether the job is not done and its deadline has passed.
func (j Job) PastDeadline(now time.Time) bool {
	return !j.Status.Done() && now.After(j.Deadline)
}

// Task is the queue message for a job: only the id, so the job record stays the one source of truth.
type Task struct {
	JobID string `json:"jobId"`
}

// Domain errors, mapped to HTTP statuses only at the edge.
var (
	// ErrNotFound means no such job for this caller (another caller's job is not found either).
	ErrNotFound = errors.New("job not found")
	// ErrConflict means a conditional write lost: the job is not in the status the change requires.
	ErrConflict = errors.New("job changed concurrently")
	// ErrKeyReused means an Idempotency-Key names a job submitted with other input.
	ErrKeyReused = errors.New("idempotency key was used for a different job")
)

// NewID returns a random job id: 128 bits as 32 hex characters.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics itself instead).
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// IDForRequest derives the job id of a request that carries an Idempotency-Key, so that a retry after
// a failure part-way (record written, message not sent, or the reverse) converges on the same job
// instead of leaving a second one behind.
func IDForRequest(owner, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(owner + "\x00" + idempotencyKey))
	return hex.EncodeToString(sum[:16])
}
