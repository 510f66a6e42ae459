package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// jobs is the service this file tests: its tests call its API and name its functions through it.
const jobs service = "Jobs"

// jobView is GET /jobs/{id}'s body.
type jobView struct {
	JobID    string   `json:"jobId"`
	Status   string   `json:"status"`
	Task     string   `json:"task"`
	Attempts int      `json:"attempts"`
	Problem  *problem `json:"problem"`
	Result   *struct {
		Output string `json:"output"`
	} `json:"result"`
}

// submit posts a job and checks the 202 answer; it returns the job id.
func submit(t *testing.T, token, body string, headers ...string) string {
	t.Helper()
	r := jobs.call(t, http.MethodPost, "/jobs", token, body, headers...)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /jobs = %d %s; want 202", r.status, r.body)
	}
	var got struct {
		JobID  string `json:"jobId"`
		Status string `json:"status"`
	}
	r.json(t, &got)
	if got.JobID == "" || got.Status != "PENDING" {
		t.Fatalf("POST /jobs body = %s; want a jobId and status PENDING", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/jobs/"+got.JobID {
		t.Errorf("Location = %q; want /jobs/%s", loc, got.JobID)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("202 without Retry-After")
	}
	return got.JobID
}

// jobWork bounds a job's work and the waits around it, without retries.
const jobWork = 90 * time.Second

// waitForJob polls GET /jobs/{id} as a client would, honouring 202 + Retry-After, until the job is
// done, within jobWork: a job that ends on its first delivery.
func waitForJob(t *testing.T, token, id string) jobView {
	t.Helper()
	return waitForJobWithin(t, token, id, jobWork)
}

// waitForRetriedJob is waitForJob for a job whose message fails every delivery: it also waits the
// time JobsQueue takes to deliver it maxReceiveCount times.
func waitForRetriedJob(t *testing.T, token, id string) jobView {
	t.Helper()
	return waitForJobWithin(t, token, id, jobWork+queueRedelivery(t, "JobsQueue").deadLettered())
}

func waitForJobWithin(t *testing.T, token, id string, within time.Duration) jobView {
	t.Helper()
	var job jobView
	// Every 200 ms, faster than Retry-After: the test wants the answer soon.
	eventually(t, within, 200*time.Millisecond, func() (bool, string) {
		job = jobView{}
		if jobs.getAsync(t, token, "/jobs/"+id, &job) {
			return true, ""
		}
		if job.Status != "PENDING" && job.Status != "RUNNING" {
			t.Fatalf("202 with status %q; want PENDING or RUNNING", job.Status)
		}
		return false, fmt.Sprintf("job %s still %s", id, job.Status)
	})
	return job
}

func TestSubmitAndPollToCompletion(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-complete", nil)
	id := submit(t, token, `{"task":"resize-image","durationMs":300}`)
	job := waitForJob(t, token, id)
	if job.Status != "SUCCEEDED" || job.Result == nil || job.Result.Output != "processed resize-image" {
		t.Fatalf("finished job = %+v; want SUCCEEDED with output", job)
	}
	if job.Attempts != 1 || job.Problem != nil {
		t.Errorf("job = %+v; want 1 attempt and no problem", job)
	}
}

func TestFailedJobReportsProblem(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-fail", nil)
	id := submit(t, token, `{"task":"corrupt-file","outcome":"fail"}`)
	job := waitForJob(t, token, id)
	if job.Status != "FAILED" || job.Problem == nil || job.Problem.Title != "task failed" {
		t.Fatalf("job = %+v; want FAILED with a problem titled 'task failed'", job)
	}
	if job.Attempts != 1 {
		t.Errorf("attempts = %d; want 1 (a failed task is not retried)", job.Attempts)
	}
}

func TestIdempotentResubmit(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-idem", nil)
	key := "order-" + randomHex(4)
	body := `{"task":"charge-card","durationMs":100}`
	first := submit(t, token, body, "Idempotency-Key", key)
	// The same request again, with other spacing: same job, nothing new queued.
	second := submit(t, token, `{ "durationMs": 100, "task": "charge-card" }`, "Idempotency-Key", key)
	if first != second {
		t.Fatalf("resubmit with the same Idempotency-Key gave job %s, then %s; want the same job", first, second)
	}
	// The same key for a different request is refused.
	wantProblem(t, jobs.call(t, http.MethodPost, "/jobs", token, `{"task":"refund"}`, "Idempotency-Key", key), http.StatusUnprocessableEntity)
	// Another user's identical key is their own.
	other := submit(t, st.token(t, "bob-idem", nil), body, "Idempotency-Key", key)
	if other == first {
		t.Errorf("two users with the same Idempotency-Key share job %s", first)
	}

	job := waitForJob(t, token, first)
	if job.Status != "SUCCEEDED" || job.Attempts != 1 {
		t.Fatalf("job = %+v; want SUCCEEDED after 1 attempt", job)
	}
	if st.logs != nil {
		if n := len(logged(`"job started"`, first)); n != 1 {
			t.Errorf("job %s started %d times; want 1 (the resubmit must queue nothing)", first, n)
		}
	}
}

// TestSubmitRetriedAfterThePartWayFailureFinishesTheJob retries POST /jobs with the same
// Idempotency-Key after a first attempt that wrote the job but failed before answering: its
// SendMessage failed, so it released the key and answered 500, leaving the job PENDING and never
// queued. The retry's conditional PutItem finds the job there, and SubmitJobFunction reads it
// (dynamodb:GetItem on JobsTable) to tell a retry from a reused key before it queues the job
// again. The first attempt's job is written straight into the table, so this runs only locally.
//
// Without dynamodb:GetItem on JobsTable that read is AccessDenied and the retry answers 500, for
// every retry: the client never gets its job id, and the job stays PENDING until it is TIMED_OUT.
func TestSubmitRetriedAfterThePartWayFailureFinishesTheJob(t *testing.T) {
	requireLocal(t)
	t.Parallel()
	token := st.token(t, "alice-partway-"+randomHex(3), nil)
	owner := subject(t, token)
	key := "order-" + randomHex(4)
	id := jobIDForRequest(owner, key)
	now := time.Now().UTC()
	// The item SubmitJobFunction writes (jobs.Job), as the first attempt left it.
	item := map[string]types.AttributeValue{
		"jobId":  &types.AttributeValueMemberS{Value: id},
		"owner":  &types.AttributeValueMemberS{Value: owner},
		"status": &types.AttributeValueMemberS{Value: "PENDING"},
		"input": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"task":       &types.AttributeValueMemberS{Value: "charge-card"},
			"durationMs": &types.AttributeValueMemberN{Value: "200"},
			"outcome":    &types.AttributeValueMemberS{Value: "succeed"},
		}},
		"attempts":  &types.AttributeValueMemberN{Value: "0"},
		"createdAt": &types.AttributeValueMemberS{Value: now.Add(-5 * time.Second).Format(time.RFC3339Nano)},
		"deadline":  &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(15 * time.Minute).Unix())},
		"expiresAt": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(24 * time.Hour).Unix())},
	}
	if _, err := st.dynamodb.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(st.outputs["JobsTableName"]), Item: item,
	}); err != nil {
		t.Fatalf("write the first attempt's job: %v", err)
	}
	defer logsOnFailure(t, id)()

	got := submit(t, token, `{"task":"charge-card","durationMs":200}`, "Idempotency-Key", key)
	if got != id {
		t.Fatalf("the retry answered job %s; want %s, the job the first attempt wrote", got, id)
	}
	job := waitForJob(t, token, id)
	if job.Status != "SUCCEEDED" || job.Attempts != 1 {
		t.Fatalf("job = %+v; want SUCCEEDED after 1 attempt (queued by the retry)", job)
	}
	// Retried again once finished: the recorded answer, the same job.
	if again := submit(t, token, `{"task":"charge-card","durationMs":200}`, "Idempotency-Key", key); again != id {
		t.Errorf("a third attempt answered job %s; want %s", again, id)
	}
}

// jobIDForRequest is the job id SubmitJobFunction derives from the owner and Idempotency-Key
// (jobs.IDForRequest).
func jobIDForRequest(owner, key string) string {
	sum := sha256.Sum256([]byte(owner + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

func TestDuplicatedMessageRunsJobOnce(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-dup", nil)
	id := submit(t, token, `{"task":"send-invoice","durationMs":1500}`)
	// SQS delivers at least once: deliver this job's message twice more, one while it runs.
	for range 2 {
		_, err := st.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl:    aws.String(st.outputs["JobsQueueUrl"]),
			MessageBody: aws.String(fmt.Sprintf(`{"jobId":%q}`, id)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	job := waitForJob(t, token, id)
	if job.Status != "SUCCEEDED" || job.Attempts != 1 {
		t.Fatalf("job = %+v; want SUCCEEDED after exactly 1 attempt", job)
	}
	if st.logs != nil {
		// A duplicate received while the job ran was handed back: let it come back from its
		// visibility timeout, at most that long after the job finished, and be absorbed.
		time.Sleep(queueRedelivery(t, "JobsQueue").visibility + 3*time.Second)
		if n := len(logged(`"job started"`, id)); n != 1 {
			t.Errorf("job %s started %d times for 3 deliveries; want 1", id, n)
		}
	}
}

func TestPoisonMessageEndsInDeadLetterQueue(t *testing.T) {
	t.Parallel()
	token := st.token(t, "alice-poison", nil)
	id := submit(t, token, `{"task":"call-flaky-partner","outcome":"poison"}`)
	job := waitForRetriedJob(t, token, id)
	if job.Status != "FAILED" || job.Problem == nil || job.Problem.Title != "retries exhausted" || job.Attempts != 3 {
		t.Fatalf("job = %+v; want FAILED, retries exhausted, after 3 attempts (maxReceiveCount)", job)
	}
	waitForDLQMessage(t, fmt.Sprintf(`{"jobId":%q}`, id))
}

func TestMalformedMessageEndsInDeadLetterQueue(t *testing.T) {
	t.Parallel()
	body := "not a task " + randomHex(4)
	if _, err := st.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(st.outputs["JobsQueueUrl"]), MessageBody: aws.String(body),
	}); err != nil {
		t.Fatal(err)
	}
	waitForDLQMessage(t, body)
}

// dlqMu serialises readers of the shared dead-letter queue, so one test does not hide another's message.
var dlqMu sync.Mutex

// waitForDLQMessage waits until a message with exactly body is in the jobs dead-letter queue, and deletes it.
func waitForDLQMessage(t *testing.T, body string) {
	t.Helper()
	dlqMu.Lock()
	defer dlqMu.Unlock()
	queue := st.outputs["JobsDeadLetterQueueUrl"]
	// A message that fails every receive leaves JobsQueue after its last one's visibility timeout.
	// No pause between polls: each receive waits up to a second for messages.
	eventually(t, queueRedelivery(t, "JobsQueue").deadLettered()+30*time.Second, 0, func() (bool, string) {
		out, err := st.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if aws.ToString(m.Body) == body {
				_, _ = st.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle})
				return true, ""
			}
		}
		return false, fmt.Sprintf("message %q not in the dead-letter queue", body)
	})
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token func() string
	}{
		{"no token", func() string { return "" }},
		{"garbage", func() string { return "not-a-jwt" }},
	}
	if st.forgedToken != nil {
		tests = append(tests,
			struct {
				name  string
				token func() string
			}{"forged", func() string { return st.forgedToken(t, "mallory") }},
			struct {
				name  string
				token func() string
			}{"expired", func() string { return st.expiredToken(t, "alice") }},
		)
	}
	for _, tt := range tests {
		for _, route := range []struct{ method, path, body string }{
			{http.MethodPost, "/jobs", `{"task":"x"}`},
			{http.MethodGet, "/jobs/0123456789abcdef0123456789abcdef", ""},
		} {
			r := jobs.call(t, route.method, route.path, tt.token(), route.body)
			if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), `"Unauthorized"`) {
				t.Errorf("%s: %s %s = %d %s; want 401 Unauthorized", tt.name, route.method, route.path, r.status, r.body)
			}
		}
	}
}

func TestOtherUsersJobIsNotFound(t *testing.T) {
	t.Parallel()
	alice := st.token(t, "alice-private", nil)
	id := submit(t, alice, `{"task":"private"}`)
	mallory := st.token(t, "mallory-private", nil)
	p := wantProblem(t, jobs.call(t, http.MethodGet, "/jobs/"+id, mallory, ""), http.StatusNotFound)
	unknown := wantProblem(t, jobs.call(t, http.MethodGet, "/jobs/ffffffffffffffffffffffffffffffff", mallory, ""), http.StatusNotFound)
	if p.Title != unknown.Title || p.Detail != unknown.Detail || p.Type != unknown.Type {
		t.Errorf("another user's job answers %+v, an unknown one %+v; want the same answer (no existence leak)", p, unknown)
	}
}

func TestBadInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	user := "alice-bad-input-" + randomHex(3)
	token := st.token(t, user, nil)
	tests := []struct {
		name, body, contentType string
		status                  int
		field                   string
	}{
		{"malformed JSON", `{"task":`, "application/json", 400, ""},
		{"wrong type", `{"task":42}`, "application/json", 400, "task"},
		{"unknown field", `{"task":"x","priority":1}`, "application/json", 400, "priority"},
		{"missing task", `{"durationMs":10}`, "application/json", 400, "task"},
		{"duration too long", `{"task":"x","durationMs":999999}`, "application/json", 400, "durationMs"},
		{"unknown outcome", `{"task":"x","outcome":"explode"}`, "application/json", 400, "outcome"},
		{"two documents", `{"task":"x"}{"task":"y"}`, "application/json", 400, ""},
		{"body over the limit", `{"task":"` + strings.Repeat("a", 20*1024) + `"}`, "application/json", 413, ""},
		{"not JSON", `task=x`, "application/x-www-form-urlencoded", 415, ""},
	}
	for _, tt := range tests {
		r := jobs.call(t, http.MethodPost, "/jobs", token, tt.body, "Content-Type", tt.contentType)
		p := wantProblem(t, r, tt.status)
		if tt.field != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.field) {
			t.Errorf("%s: invalid-params = %+v; want field %q named", tt.name, p.InvalidParams, tt.field)
		}
	}
	// Nothing written: no job belongs to this user (its owner is the token's sub).
	owner := subject(t, token)
	out, err := st.dynamodb.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(st.outputs["JobsTableName"]),
		FilterExpression:          aws.String("#o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: owner}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 0 {
		t.Errorf("bad requests wrote %d jobs; want none", out.Count)
	}
}

func TestCorrelationIDCrossesTheQueue(t *testing.T) {
	requireLocal(t)
	t.Parallel()
	token := st.token(t, "alice-corr", nil)
	corr := "e2e-" + randomHex(6)
	r := jobs.call(t, http.MethodPost, "/jobs", token, `{"task":"trace-me"}`, "x-correlation-id", corr)
	if r.status != http.StatusAccepted || r.header.Get("x-correlation-id") != corr {
		t.Fatalf("POST /jobs = %d, x-correlation-id %q; want 202 echoing %q", r.status, r.header.Get("x-correlation-id"), corr)
	}
	var got struct {
		JobID string `json:"jobId"`
	}
	r.json(t, &got)
	waitForJob(t, token, got.JobID)
	// The worker's lines for this job carry the caller's correlation ID: it crossed SQS.
	lines := logged(`"job succeeded"`, got.JobID)
	if len(lines) != 1 {
		t.Fatalf("found %d 'job succeeded' lines for %s; want 1", len(lines), got.JobID)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[0], lines[0][:strings.Index(lines[0], "{")])), &line); err != nil {
		t.Fatalf("worker log line is not JSON after its prefix: %q", lines[0])
	}
	if line["correlationId"] != corr {
		t.Errorf("worker log correlationId = %v; want %q", line["correlationId"], corr)
	}
	if line["requestId"] == nil {
		t.Error("worker log line has no requestId")
	}
	// And the invocation's X-Ray trace id (the Root of the Lambda-Runtime-Trace-Id header).
	if id, _ := line["traceId"].(string); !regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(id) {
		t.Errorf("worker log traceId = %v; want the Root of a trace header, 1-<8 hex>-<24 hex>", line["traceId"])
	}
}

// TestSubmitRouteIsThrottled is not parallel: it empties the route's token bucket, so it runs
// before the parallel tests start and waits for the bucket to refill.
func TestSubmitRouteIsThrottled(t *testing.T) {
	token := st.token(t, "alice-throttle", nil)
	// POST /jobs allows bursts of 20: 40 requests at once must meet the limit. The body is invalid,
	// so nothing is written; throttling happens before the function runs.
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := jobs.call(t, http.MethodPost, "/jobs", token, `{}`)
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[http.StatusTooManyRequests] == 0 {
		t.Errorf("40 concurrent POST /jobs answered %v; want some 429 Too Many Requests", counts)
	}
	if counts[http.StatusTooManyRequests]+counts[http.StatusBadRequest] != 40 {
		t.Errorf("answers %v; want only 400 (bad body) and 429", counts)
	}
	time.Sleep(2500 * time.Millisecond) // 20 tokens at 10/s: full again for the tests that follow
}

// TestOpsPageShowsJobsInvocations drives a job through the API, then reads the runner's ops page
// (/.web/ops/, local only) in headless Chromium: every function the job went through shows its
// invocations, in a table a screen reader can navigate. Skipped without a browser, like the
// uploads page test, unless E2E_REQUIRE_BROWSER=1.
func TestOpsPageShowsJobsInvocations(t *testing.T) {
	requireLocal(t)
	t.Parallel()
	token := st.token(t, "ops-page", nil)
	waitForJob(t, token, submit(t, token, `{"task":"resize-image","durationMs":50}`)) // submit, process, get
	functions := []string{jobs.functionName(t, "SubmitJobFunction"), jobs.functionName(t, "ProcessJobFunction"), jobs.functionName(t, "GetJobFunction")}

	page := readOpsPage(t, jobs.url(t), "ops-jobs", functions...)
	for _, name := range functions {
		row, ok := page.Functions[name]
		if !ok || row.Header != "row" || len(row.Cells) < 6 || row.Cells[0] == "0" {
			t.Errorf("ops page row of %s = %+v; want a row header and invocations > 0", name, row)
		}
	}
	if want := []string{"Functions", "Queues", "Metrics (embedded metric format)", "Faults injected (make run FAULTS=...)"}; fmt.Sprint(page.Captions) != fmt.Sprint(want) {
		t.Errorf("ops page captions = %q; want %q", page.Captions, want)
	}
	queue := st.outputs["JobsQueueUrl"]
	queue = queue[strings.LastIndexByte(queue, '/')+1:]
	if row := page.Queues[queue]; len(row.Cells) < 3 || row.Cells[2] == "0" {
		t.Errorf("ops page row of queue %s = %+v; want messages received > 0", queue, row)
	}
	if !strings.HasPrefix(page.Status, "Live") || !page.Refreshed {
		t.Errorf("ops page status = %q, refreshed by itself: %v; want it live and refreshing", page.Status, page.Refreshed)
	}
}
