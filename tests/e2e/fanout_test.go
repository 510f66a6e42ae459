package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fanout is the service this file tests: its tests call its API and name its functions through it.
const fanout service = "Fanout"

// batchView is GET /batches/{id}'s body.
type batchView struct {
	BatchID    string     `json:"batchId"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Completed  int        `json:"completed"`
	Failed     int        `json:"failed"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
	Problem    *problem   `json:"problem"`
	Result     *struct {
		Succeeded   int `json:"succeeded"`
		Failed      int `json:"failed"`
		FailedItems []struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"failedItems"`
	} `json:"result"`
}

// fanoutItem is one item of a POST /batches body.
type fanoutItem struct {
	ID         string `json:"id"`
	DurationMS int    `json:"durationMs"`
	Fail       bool   `json:"fail,omitempty"`
}

func fanoutBody(t *testing.T, items []fanoutItem) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fanoutItems(n, durationMS int) []fanoutItem {
	items := make([]fanoutItem, n)
	for i := range items {
		items[i] = fanoutItem{ID: fmt.Sprintf("item-%05d", i), DurationMS: durationMS}
	}
	return items
}

// submitBatch posts a batch and checks the 202 answer; it returns the batch id.
func submitBatch(t *testing.T, token, body string) string {
	t.Helper()
	r := fanout.call(t, http.MethodPost, "/batches", token, body)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /batches = %d %s; want 202", r.status, r.body)
	}
	var got struct {
		BatchID string `json:"batchId"`
		Status  string `json:"status"`
	}
	r.json(t, &got)
	if got.BatchID == "" || got.Status != "RUNNING" {
		t.Fatalf("POST /batches body = %s; want a batchId and status RUNNING", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/batches/"+got.BatchID {
		t.Errorf("Location = %q; want /batches/%s", loc, got.BatchID)
	}
	return got.BatchID
}

// batchWork bounds a batch's work and the waits around it, without retries.
const batchWork = 90 * time.Second

// waitForBatch polls GET /batches/{id}, honouring 202 + Retry-After, until the batch is done,
// within batchWork: a batch whose items all succeed on their first delivery.
func waitForBatch(t *testing.T, token, id string) batchView {
	t.Helper()
	return waitForBatchWithin(t, token, id, batchWork)
}

// waitForBatchWithFailures is waitForBatch for a batch with an item that fails every delivery: it
// also waits the time FanoutTasksQueue takes to hand the item to its dead-letter queue, where its
// failure is recorded.
func waitForBatchWithFailures(t *testing.T, token, id string) batchView {
	t.Helper()
	return waitForBatchWithin(t, token, id, batchWork+queueRedelivery(t, "FanoutTasksQueue").deadLettered())
}

func waitForBatchWithin(t *testing.T, token, id string, within time.Duration) batchView {
	t.Helper()
	var b batchView
	eventually(t, within, 250*time.Millisecond, func() (bool, string) {
		b = batchView{}
		if fanout.getAsync(t, token, "/batches/"+id, &b) {
			return true, ""
		}
		if b.Status != "RUNNING" && b.Status != "AGGREGATING" {
			t.Fatalf("202 with status %q; want RUNNING or AGGREGATING", b.Status)
		}
		if b.Completed+b.Failed > b.Total {
			t.Fatalf("counted %d + %d of %d items", b.Completed, b.Failed, b.Total)
		}
		return false, fmt.Sprintf("batch %s still %s (%d/%d)", id, b.Status, b.Completed+b.Failed, b.Total)
	})
	return b
}

// sinkRuns counts the sink's "batch aggregated" lines for a batch: the final write that won.
func sinkRuns(id string) int {
	return len(logged(`"batch aggregated"`, id))
}

func TestFanoutBatchesEndToEnd(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			token := st.token(t, fmt.Sprintf("alice-fanout-%d", n), nil)
			id := submitBatch(t, token, fanoutBody(t, fanoutItems(n, 1)))
			b := waitForBatch(t, token, id)
			if b.Status != "SUCCEEDED" || b.Total != n || b.Completed != n || b.Failed != 0 || b.FinishedAt == nil {
				t.Fatalf("batch = %+v; want SUCCEEDED with %d completed and finishedAt", b, n)
			}
			if b.Result == nil || b.Result.Succeeded != n || b.Result.Failed != 0 {
				t.Fatalf("result = %+v; want %d succeeded", b.Result, n)
			}
			if st.logs != nil {
				if runs := sinkRuns(id); runs != 1 {
					t.Errorf("sink aggregated batch %s %d times; want 1", id, runs)
				}
			}
		})
	}
}

func TestFanoutDuplicateSubtasksCountOnce(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-fanout-dup", nil)
	items := fanoutItems(10, 300)
	id := submitBatch(t, token, fanoutBody(t, items))
	// SQS delivers at least once: deliver every subtask a second time, while the batch runs.
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(items))
	for i, item := range items {
		body, _ := json.Marshal(map[string]any{"batchId": id, "item": item})
		entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(string(body))}
	}
	out, err := st.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(st.outputs["FanoutTasksQueueUrl"]), Entries: entries,
	})
	if err != nil || len(out.Failed) != 0 {
		t.Fatalf("send duplicates: %v, %d failed", err, len(out.Failed))
	}
	b := waitForBatch(t, token, id)
	if b.Status != "SUCCEEDED" || b.Completed != 10 || b.Failed != 0 || b.Result.Succeeded != 10 {
		t.Fatalf("batch = %+v; want SUCCEEDED with exactly 10 completed for 20 deliveries", b)
	}
	if st.logs != nil {
		// Let every duplicate be delivered and absorbed (they are processed within a second or two).
		time.Sleep(3 * time.Second)
		if again := waitForBatch(t, token, id); again.Completed != 10 || again.Status != "SUCCEEDED" {
			t.Errorf("after the duplicates settled: %+v; want still 10 completed, SUCCEEDED", again)
		}
		if runs := sinkRuns(id); runs != 1 {
			t.Errorf("sink aggregated batch %s %d times; want 1", id, runs)
		}
		if n := len(logged(`"duplicate subtask`, id)); n == 0 {
			t.Errorf("no 'duplicate subtask' lines for batch %s; want the 10 redeliveries recognised", id)
		}
	}
}

func TestFanoutFailingItemCompletesWithErrors(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-fanout-fail", nil)
	items := fanoutItems(5, 1)
	items[3].Fail = true
	id := submitBatch(t, token, fanoutBody(t, items))
	// The failing item is tried maxReceiveCount (3) times, lands in the dead-letter queue, and is
	// recorded failed from there.
	b := waitForBatchWithFailures(t, token, id)
	if b.Status != "COMPLETED_WITH_ERRORS" || b.Completed != 4 || b.Failed != 1 {
		t.Fatalf("batch = %+v; want COMPLETED_WITH_ERRORS with 4 completed, 1 failed", b)
	}
	if b.Result == nil || b.Result.Succeeded != 4 || len(b.Result.FailedItems) != 1 || b.Result.FailedItems[0].ID != items[3].ID ||
		!strings.Contains(b.Result.FailedItems[0].Reason, "retries exhausted") {
		t.Fatalf("result = %+v; want %s listed as failed, retries exhausted", b.Result, items[3].ID)
	}
	if st.logs != nil {
		if runs := sinkRuns(id); runs != 1 {
			t.Errorf("sink aggregated batch %s %d times; want 1", id, runs)
		}
	}
}

func TestFanoutBadInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	user := "alice-fanout-bad-" + randomHex(3)
	token := st.token(t, user, nil)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"malformed JSON", `{"items":[`, 400, ""},
		{"no items", `{"items":[]}`, 400, "items"},
		{"items missing", `{}`, 400, "items"},
		{"10,001 items", fanoutBody(t, fanoutItems(10_001, 0)), 400, "items"},
		{"duplicate item id", `{"items":[{"id":"a"},{"id":"a"}]}`, 400, "items[1].id"},
		{"bad item id", `{"items":[{"id":"a/b"}]}`, 400, "items[0].id"},
		{"duration too long", `{"items":[{"id":"a","durationMs":60000}]}`, 400, "items[0].durationMs"},
		{"unknown field", `{"items":[{"id":"a","priority":1}]}`, 400, "priority"},
	}
	for _, tt := range tests {
		p := wantProblem(t, fanout.call(t, http.MethodPost, "/batches", token, tt.body), tt.status)
		if tt.field != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.field) {
			t.Errorf("%s: invalid-params = %+v; want field %q named", tt.name, p.InvalidParams, tt.field)
		}
	}
	// Nothing written: no batch belongs to this user (its owner is the token's sub).
	owner := subject(t, token)
	out, err := st.dynamodb.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(st.outputs["FanoutTableName"]),
		FilterExpression:          aws.String("#o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: owner}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 0 || out.LastEvaluatedKey != nil {
		t.Errorf("bad requests wrote %d batches; want none", out.Count)
	}
}

func TestFanoutOtherUsersBatchIsNotFound(t *testing.T) {
	t.Parallel()
	alice := st.token(t, "alice-fanout-private", nil)
	id := submitBatch(t, alice, fanoutBody(t, fanoutItems(1, 0)))
	mallory := st.token(t, "mallory-fanout-private", nil)
	p := wantProblem(t, fanout.call(t, http.MethodGet, "/batches/"+id, mallory, ""), http.StatusNotFound)
	unknown := wantProblem(t, fanout.call(t, http.MethodGet, "/batches/ffffffffffffffffffffffffffffffff", mallory, ""), http.StatusNotFound)
	if p.Title != unknown.Title || p.Detail != unknown.Detail || p.Type != unknown.Type {
		t.Errorf("another user's batch answers %+v, an unknown one %+v; want the same answer", p, unknown)
	}
	waitForBatch(t, alice, id)
}
