package fanout

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/invalid"
)

// Status is where a batch is in its life.
type Status string

// The statuses a batch moves through; see the package documentation for the transitions.
const (
	StatusRunning             Status = "RUNNING"
	StatusAggregating         Status = "AGGREGATING"
	StatusSucceeded           Status = "SUCCEEDED"
	StatusCompletedWithErrors Status = "COMPLETED_WITH_ERRORS"
	StatusFailed              Status = "FAILED"
)

// Done reports whether the status is final: nothing changes a batch after it.
func (s Status) Done() bool {
	return s == StatusSucceeded || s == StatusCompletedWithErrors || s == StatusFailed
}

// Limits on what a caller may submit.
const (
	MaxItems        = 10_000
	MaxItemIDLength = 64
	MaxItemDuration = 5 * time.Second
)

// Item is one unit of work in a batch. The work is simulated so that tests and demos can steer it:
// it takes DurationMS and, when Fail is set, fails on every attempt.
type Item struct {
	ID         string `json:"id" dynamodbav:"id"`
	DurationMS int    `json:"durationMs" dynamodbav:"durationMs"`
	Fail       bool   `json:"fail,omitempty" dynamodbav:"fail,omitempty"`
}

// Input is what a caller submits.
type Input struct {
	Items []Item `json:"items"`
}

// Validate checks the input; it returns an *invalid.Param naming the first bad field. Item ids
// must be unique within a batch: a subtask's result is stored under its item id, and that key is
// what makes a redelivered subtask recognisable.
func (in Input) Validate() error {
	if n := len(in.Items); n == 0 || n > MaxItems {
		return &invalid.Param{Name: "items", Reason: fmt.Sprintf("must hold 1 to %d items, not %d", MaxItems, n)}
	}
	seen := make(map[string]bool, len(in.Items))
	for i, item := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		if !validItemID(item.ID) {
			return &invalid.Param{Name: field + ".id", Reason: fmt.Sprintf("must be 1 to %d characters of A-Z a-z 0-9 . _ : -", MaxItemIDLength)}
		}
		if seen[item.ID] {
			return &invalid.Param{Name: field + ".id", Reason: fmt.Sprintf("%q appears more than once", item.ID)}
		}
		seen[item.ID] = true
		// Compared in milliseconds: as a time.Duration, 9223372036855 ms would wrap to -8 s.
		if item.DurationMS < 0 || int64(item.DurationMS) > MaxItemDuration.Milliseconds() {
			return &invalid.Param{Name: field + ".durationMs", Reason: fmt.Sprintf("must be between 0 and %d", MaxItemDuration.Milliseconds())}
		}
	}
	return nil
}

// Fingerprint identifies the items, so a retried submission with the same Idempotency-Key can be
// told apart from a different request reusing the key.
func (in Input) Fingerprint() string {
	canonical, _ := json.Marshal(in.Items) // strings, ints and bools always marshal
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

func validItemID(id string) bool {
	if len(id) == 0 || len(id) > MaxItemIDLength {
		return false
	}
	for _, c := range id {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// Batch is the one record a batch has: its counters, its status and, once done, its result.
type Batch struct {
	ID     string `dynamodbav:"batchId"`
	Owner  string `dynamodbav:"owner"`
	Status Status `dynamodbav:"status"`
	// Total is the number of items; Remaining counts down as subtasks are recorded, and
	// Completed + Failed count up, so Completed + Failed + Remaining == Total at every moment.
	Total     int `dynamodbav:"total"`
	Remaining int `dynamodbav:"remaining"`
	Completed int `dynamodbav:"completed"`
	Failed    int `dynamodbav:"failed"`
	// Published is the fan-out's cursor: the first Published items are known to be on the queue.
	// A retry of the same request (same Idempotency-Key) resumes from it.
	Published int `dynamodbav:"published"`
	// PublishBy is when an unfinished fan-out counts as interrupted.
	PublishBy time.Time `dynamodbav:"publishBy,unixtime"`
	// Deadline is when a batch not yet done counts as FAILED.
	Deadline      time.Time  `dynamodbav:"deadline,unixtime"`
	Fingerprint   string     `dynamodbav:"fingerprint"`
	CorrelationID string     `dynamodbav:"correlationId,omitempty"`
	StartedAt     time.Time  `dynamodbav:"startedAt"`
	FinishedAt    *time.Time `dynamodbav:"finishedAt,omitempty"`
	Result        *Result    `dynamodbav:"result,omitempty"`
	Failure       *Failure   `dynamodbav:"failure,omitempty"`
	// ExpiresAt is the table's TTL attribute (epoch seconds).
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// PublishInterrupted reports whether the fan-out stopped part-way and nobody resumed it in time.
func (b Batch) PublishInterrupted(now time.Time) bool {
	return b.Status == StatusRunning && b.Published < b.Total && now.After(b.PublishBy)
}

// PastDeadline reports whether the batch is not done and its deadline has passed.
func (b Batch) PastDeadline(now time.Time) bool {
	return !b.Status.Done() && now.After(b.Deadline)
}

// MaxFailedItemsListed bounds the failed items a batch's result lists, which keeps the batch record
// well under DynamoDB's 400 KB item limit (10,000 ids of 64 characters would not fit). The result
// says when the list is truncated; every subtask's own record stays in the table until its TTL.
const MaxFailedItemsListed = 1000

// Result is what the sink made of a batch's subtasks.
type Result struct {
	Succeeded            int          `json:"succeeded" dynamodbav:"succeeded"`
	Failed               int          `json:"failed" dynamodbav:"failed"`
	WorkMS               int64        `json:"workMs" dynamodbav:"workMs"`
	FailedItems          []FailedItem `json:"failedItems,omitempty" dynamodbav:"failedItems,omitempty"`
	FailedItemsTruncated bool         `json:"failedItemsTruncated,omitempty" dynamodbav:"failedItemsTruncated,omitempty"`
}

// FailedItem names an item whose subtask failed, and why.
type FailedItem struct {
	ID     string `json:"id" dynamodbav:"id"`
	Reason string `json:"reason" dynamodbav:"reason"`
}

// Failure says why a batch ended FAILED, in words safe to show its owner.
type Failure struct {
	Reason string `json:"reason" dynamodbav:"reason"`
	Detail string `json:"detail" dynamodbav:"detail"`
}

// Subtask is the queue message for one item. It carries the item itself: the batch record holds
// counters, not the (up to 10,000) items.
type Subtask struct {
	BatchID string `json:"batchId"`
	Item    Item   `json:"item"`
}

// SubtaskStatus is how a subtask ended.
type SubtaskStatus string

// The outcomes of a subtask.
const (
	SubtaskDone   SubtaskStatus = "DONE"
	SubtaskFailed SubtaskStatus = "FAILED"
)

// SubtaskResult is the record of one finished subtask.
type SubtaskResult struct {
	ItemID     string        `dynamodbav:"itemId"`
	Status     SubtaskStatus `dynamodbav:"status"`
	Output     string        `dynamodbav:"output,omitempty"`
	DurationMS int           `dynamodbav:"durationMs"`
	Reason     string        `dynamodbav:"reason,omitempty"`
	FinishedAt time.Time     `dynamodbav:"finishedAt"`
}

// Domain errors, mapped to HTTP statuses only at the edge.
var (
	// ErrNotFound means no such batch for this caller (another caller's batch is not found either).
	ErrNotFound = errors.New("batch not found")
	// ErrConflict means a conditional write lost: the batch is not in the state the change requires.
	ErrConflict = errors.New("batch changed concurrently")
	// ErrDuplicate means a subtask's result is already recorded: a redelivery, counted once already.
	ErrDuplicate = errors.New("subtask already recorded")
	// ErrBatchClosed means the batch no longer takes results (it FAILED, or it is already complete).
	ErrBatchClosed = errors.New("batch no longer running")
	// ErrRecordOneByOne means results could not be recorded together, and nothing was: each must
	// go through Record on its own (one may be a duplicate, the last subtask, or the batch closed).
	ErrRecordOneByOne = errors.New("results must be recorded one at a time")
	// ErrFingerprintMismatch means an Idempotency-Key was reused for a different request.
	ErrFingerprintMismatch = errors.New("Idempotency-Key reused for a different request")
)

// NewID returns a random batch id: 128 bits as 32 hex characters.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// IDForRequest derives the batch id of a request carrying an Idempotency-Key, so a retry of a
// submission that failed part-way finds the same batch and resumes its fan-out.
func IDForRequest(owner, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(owner + "\x00" + idempotencyKey))
	return hex.EncodeToString(sum[:16])
}

// validID reports whether id has the shape of a batch id (32 lower-case hex characters).
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
