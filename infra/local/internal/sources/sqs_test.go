package sources

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
	"github.com/go-serverless/reference/infra/local/internal/standins"
)

// fauxqs is the stand-in TestMain starts for the integration tests, set once before any test
// runs. Without the downloaded stand-in those tests skip, unless REQUIRE_STANDINS=1 (as in CI),
// where they fail.
var fauxqs struct {
	url     string
	missing error // the stand-in is not downloaded: skip
	failed  error // it is there but did not start: fail
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	paths, err := standinPaths()
	if err != nil {
		fauxqs.missing = err
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	p, err := standins.StartFauxqs(ctx, paths, 0, nil)
	cancel()
	if err != nil {
		fauxqs.failed = err
		return m.Run()
	}
	defer p.Stop()
	fauxqs.url = p.URL
	return m.Run()
}

// standinPaths finds the stand-ins under the repository's .cache, or says what is missing.
func standinPaths() (standins.Paths, error) {
	wd, err := os.Getwd()
	if err != nil {
		return standins.Paths{}, fmt.Errorf("getwd: %w", err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.work")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			return standins.Paths{}, fmt.Errorf("no go.work above %s", wd)
		}
		root = filepath.Dir(root)
	}
	paths := standins.DefaultPaths(filepath.Join(root, ".cache"))
	if _, err := os.Stat(paths.FauxqsCLI); err != nil {
		return paths, fmt.Errorf("fauxqs not downloaded (run: make standins): %w", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return paths, fmt.Errorf("fauxqs needs node: %w", err)
	}
	return paths, nil
}

// requireFauxqs returns the URL of the running fauxqs, or skips (or fails) the test.
func requireFauxqs(t *testing.T) string {
	t.Helper()
	switch {
	case fauxqs.url != "":
		return fauxqs.url
	case fauxqs.failed != nil:
		t.Fatalf("start fauxqs: %v", fauxqs.failed)
	case os.Getenv("REQUIRE_STANDINS") == "1":
		t.Fatalf("REQUIRE_STANDINS=1 and %v", fauxqs.missing)
	default:
		t.Skipf("skipping: %v", fauxqs.missing)
	}
	return ""
}

func message(id string) types.Message {
	return types.Message{
		MessageId:     aws.String(id),
		ReceiptHandle: aws.String("rh-" + id),
		Body:          aws.String("body-" + id),
	}
}

func TestProcessed(t *testing.T) {
	batch := []types.Message{message("a"), message("b"), message("c")}
	all := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		report  bool
		payload string
		want    []string // ids to delete
		wantErr bool
	}{
		{name: "empty failure list", report: true, payload: `{"batchItemFailures":[]}`, want: all},
		{name: "null failure list", report: true, payload: `{"batchItemFailures":null}`, want: all},
		{name: "empty object", report: true, payload: `{}`, want: all},
		{name: "null response", report: true, payload: `null`, want: all},
		{name: "no response", report: true, payload: ``, want: all},
		{name: "one failed", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, want: []string{"a", "c"}},
		{name: "two failed", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":"c"},{"itemIdentifier":"a"}]}`, want: []string{"b"}},
		{name: "same failure twice", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"b"}]}`, want: []string{"a", "c"}},
		{name: "all failed", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}`, want: nil},
		{name: "unknown id", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"z"}]}`, wantErr: true},
		{name: "empty id", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":""}]}`, wantErr: true},
		{name: "null id", report: true, payload: `{"batchItemFailures":[{"itemIdentifier":null}]}`, wantErr: true},
		{name: "wrong key name", report: true, payload: `{"batchItemFailures":[{"id":"b"}]}`, wantErr: true},
		{name: "not JSON", report: true, payload: `not json`, wantErr: true},
		{name: "failures of the wrong type", report: true, payload: `{"batchItemFailures":"b"}`, wantErr: true},
		{name: "without reporting, listed failures are ignored", payload: `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, want: all},
		{name: "without reporting, an invalid response is ignored", payload: `not json`, want: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &SQSMapping{ReportBatchItemFailures: tt.report}
			got, err := m.processed(batch, []byte(tt.payload))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("processed(%s): got %v, want an error", tt.payload, messageIDs(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("processed(%s): %v", tt.payload, err)
			}
			if ids := messageIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("processed(%s): got %q, want %q", tt.payload, ids, tt.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	m := &SQSMapping{
		QueueARN: "arn:aws:sqs:eu-west-1:000000000000:jobs",
		Region:   "eu-west-1",
	}
	msg := types.Message{
		MessageId:              aws.String("m-1"),
		ReceiptHandle:          aws.String("rh-1"),
		Body:                   aws.String(`{"job":"j-1"}`),
		MD5OfBody:              aws.String("md5-body"),
		MD5OfMessageAttributes: aws.String("md5-attrs"),
		Attributes: map[string]string{
			"ApproximateReceiveCount": "3",
			"SentTimestamp":           "1741806238000",
		},
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("import")},
			"size":  {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"thumb": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		},
	}
	want := events.SQSMessage{
		MessageId:              "m-1",
		ReceiptHandle:          "rh-1",
		Body:                   `{"job":"j-1"}`,
		Md5OfBody:              "md5-body",
		Md5OfMessageAttributes: "md5-attrs",
		Attributes: map[string]string{
			"ApproximateReceiveCount": "3",
			"SentTimestamp":           "1741806238000",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"kind":  {DataType: "String", StringValue: aws.String("import")},
			"size":  {DataType: "Number", StringValue: aws.String("42")},
			"thumb": {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
		},
		EventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:jobs",
		EventSource:    "aws:sqs",
		AWSRegion:      "eu-west-1",
	}
	if got := m.record(msg); !reflect.DeepEqual(got, want) {
		t.Errorf("record:\ngot  %+v\nwant %+v", got, want)
	}

	// The field names are the ones Lambda uses, which handlers decode.
	b, err := json.Marshal(m.record(msg))
	if err != nil {
		t.Fatalf("marshal record: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("decode record: %v", err)
	}
	for name, want := range map[string]any{
		"messageId":      "m-1",
		"eventSource":    "aws:sqs",
		"eventSourceARN": "arn:aws:sqs:eu-west-1:000000000000:jobs",
		"awsRegion":      "eu-west-1",
		"body":           `{"job":"j-1"}`,
	} {
		if raw[name] != want {
			t.Errorf("record JSON %s: got %v, want %v", name, raw[name], want)
		}
	}
}

func TestRecordWithoutAttributes(t *testing.T) {
	m := &SQSMapping{QueueARN: "arn:aws:sqs:us-east-1:000000000000:jobs", Region: "us-east-1"}
	got := m.record(message("a"))
	if got.MessageAttributes == nil || len(got.MessageAttributes) != 0 {
		t.Errorf("messageAttributes: got %#v, want an empty map (Lambda sends {})", got.MessageAttributes)
	}
	if got.MessageId != "a" || got.ReceiptHandle != "rh-a" || got.Body != "body-a" {
		t.Errorf("record: got id %q handle %q body %q, want a, rh-a, body-a", got.MessageId, got.ReceiptHandle, got.Body)
	}
}

// fakeSQS answers receives with batches in turn; once they are used up, a receive waits for
// its context to end, like a long poll on an empty queue.
type fakeSQS struct {
	failDeletes bool

	mu       sync.Mutex
	batches  [][]types.Message
	receives []sqs.ReceiveMessageInput
	deletes  []sqs.DeleteMessageBatchInput
}

func (f *fakeSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	f.receives = append(f.receives, *in)
	if len(f.batches) > 0 {
		batch := f.batches[0]
		f.batches = f.batches[1:]
		f.mu.Unlock()
		return &sqs.ReceiveMessageOutput{Messages: batch}, nil
	}
	f.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, *in)
	if f.failDeletes {
		return &sqs.DeleteMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{Id: in.Entries[0].Id, Code: aws.String("ReceiptHandleIsInvalid")}}}, nil
	}
	return &sqs.DeleteMessageBatchOutput{}, nil
}

// deleted returns the receipt handles deleted so far, checking each call is a valid batch.
func (f *fakeSQS) deleted(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var handles []string
	for _, in := range f.deletes {
		if n := len(in.Entries); n == 0 || n > 10 {
			t.Errorf("DeleteMessageBatch: got %d entries, want 1 to 10", n)
		}
		ids := map[string]bool{}
		for _, e := range in.Entries {
			if ids[aws.ToString(e.Id)] {
				t.Errorf("DeleteMessageBatch: entry id %q used twice in one call", aws.ToString(e.Id))
			}
			ids[aws.ToString(e.Id)] = true
			handles = append(handles, aws.ToString(e.ReceiptHandle))
		}
	}
	return handles
}

func messages(ids ...string) []types.Message {
	out := make([]types.Message, len(ids))
	for i, id := range ids {
		out[i] = message(id)
	}
	return out
}

func handles(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "rh-" + id
	}
	return out
}

func TestPollOnce(t *testing.T) {
	functionError := func(context.Context, string, []byte) (lambdapool.Result, error) {
		fe := &lambdapool.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}
		return lambdapool.Result{Payload: []byte(`{"errorType":"Runtime.ExitError","errorMessage":"exit status 2"}`), Err: fe}, nil
	}
	fifteen := make([]string, 15)
	for i := range fifteen {
		fifteen[i] = "m" + strconv.Itoa(i)
	}
	tests := []struct {
		name        string
		report      bool
		batchSize   int
		window      time.Duration
		batches     [][]types.Message
		respond     func(context.Context, string, []byte) (lambdapool.Result, error)
		failDeletes bool
		wantRecords []string // message ids in the one event delivered
		wantDeleted []string
		wantInvokes int
		wantErr     bool
	}{
		{
			name: "success deletes the batch", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a", "b", "c")}, respond: answer(`{"batchItemFailures":[]}`),
			wantRecords: []string{"a", "b", "c"}, wantDeleted: handles("a", "b", "c"), wantInvokes: 1,
		},
		{
			name: "reported failure stays", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a", "b", "c")}, respond: answer(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`),
			wantRecords: []string{"a", "b", "c"}, wantDeleted: handles("a", "c"), wantInvokes: 1,
		},
		{
			name: "all reported failed deletes nothing", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a")}, respond: answer(`{"batchItemFailures":[{"itemIdentifier":"a"}]}`),
			wantRecords: []string{"a"}, wantInvokes: 1,
		},
		{
			name: "invalid batch response fails the batch", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a", "b")}, respond: answer(`{"batchItemFailures":[{"itemIdentifier":"nope"}]}`),
			wantRecords: []string{"a", "b"}, wantInvokes: 1,
		},
		{
			name: "without reporting, listed failures are deleted too", batchSize: 10,
			batches: [][]types.Message{messages("a", "b")}, respond: answer(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`),
			wantRecords: []string{"a", "b"}, wantDeleted: handles("a", "b"), wantInvokes: 1,
		},
		{
			name: "function error leaves the batch", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a", "b")}, respond: functionError,
			wantRecords: []string{"a", "b"}, wantInvokes: 1,
		},
		{
			name: "invoke error leaves the batch", report: true, batchSize: 10,
			batches: [][]types.Message{messages("a")},
			respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
				return lambdapool.Result{}, lambdapool.ErrUnknownFunction
			},
			wantRecords: []string{"a"}, wantInvokes: 1, wantErr: true,
		},
		{
			name: "batch size caps the gather", report: true, batchSize: 15, window: time.Minute,
			batches:     [][]types.Message{messages(fifteen[:10]...), messages(fifteen[10:]...)},
			respond:     answer(`{}`),
			wantRecords: fifteen, wantDeleted: handles(fifteen...), wantInvokes: 1,
		},
		{
			name: "failed delete is an error", report: true, batchSize: 10, failDeletes: true,
			batches: [][]types.Message{messages("a")}, respond: answer(`{}`),
			wantRecords: []string{"a"}, wantDeleted: handles("a"), wantInvokes: 1, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSQS{batches: tt.batches, failDeletes: tt.failDeletes}
			inv := &fakeInvoker{respond: tt.respond}
			m := &SQSMapping{
				SQS: fake, Invoker: inv, Log: slog.New(slog.DiscardHandler),
				Function: "worker", QueueURL: "http://sqs.local/jobs", QueueARN: "arn:aws:sqs:us-east-1:000000000000:jobs", Region: "us-east-1",
				BatchSize: tt.batchSize, Window: tt.window, ReportBatchItemFailures: tt.report,
			}
			err := m.pollOnce(t.Context())
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("pollOnce: got error %v, want error %v", err, tt.wantErr)
			}
			calls := inv.Calls()
			if len(calls) != tt.wantInvokes {
				t.Fatalf("invocations: got %d, want %d", len(calls), tt.wantInvokes)
			}
			var event events.SQSEvent
			if err := json.Unmarshal(calls[0].payload, &event); err != nil {
				t.Fatalf("decode event: %v", err)
			}
			var ids []string
			for _, r := range event.Records {
				ids = append(ids, r.MessageId)
			}
			if !slices.Equal(ids, tt.wantRecords) {
				t.Errorf("records: got %q, want %q", ids, tt.wantRecords)
			}
			if calls[0].function != "worker" {
				t.Errorf("function: got %q, want worker", calls[0].function)
			}
			if got := fake.deleted(t); !slices.Equal(got, tt.wantDeleted) {
				t.Errorf("deleted: got %q, want %q", got, tt.wantDeleted)
			}
		})
	}
}

func TestGatherRequests(t *testing.T) {
	fake := &fakeSQS{batches: [][]types.Message{messages("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), messages("k", "l")}}
	m := &SQSMapping{SQS: fake, QueueURL: "http://sqs.local/jobs", BatchSize: 12, Window: time.Minute}
	batch, err := m.gather(t.Context())
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	if len(batch) != 12 {
		t.Errorf("gather: got %d messages, want 12", len(batch))
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.receives) != 2 {
		t.Fatalf("receives: got %d, want 2", len(fake.receives))
	}
	for i, want := range []int32{10, 2} { // SQS returns at most 10 at a time
		in := fake.receives[i]
		if in.MaxNumberOfMessages != want {
			t.Errorf("receive %d: MaxNumberOfMessages got %d, want %d", i, in.MaxNumberOfMessages, want)
		}
		if aws.ToString(in.QueueUrl) != "http://sqs.local/jobs" {
			t.Errorf("receive %d: QueueUrl got %q", i, aws.ToString(in.QueueUrl))
		}
		if in.WaitTimeSeconds < 1 || in.WaitTimeSeconds > 20 {
			t.Errorf("receive %d: WaitTimeSeconds got %d, want a long poll of 1 to 20 s", i, in.WaitTimeSeconds)
		}
		if !slices.Equal(in.MessageAttributeNames, []string{"All"}) {
			t.Errorf("receive %d: MessageAttributeNames got %q, want [All]", i, in.MessageAttributeNames)
		}
		if !slices.Equal(in.MessageSystemAttributeNames, []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}) {
			t.Errorf("receive %d: MessageSystemAttributeNames got %q, want [All]", i, in.MessageSystemAttributeNames)
		}
	}
}

func TestInvokeRetriesThrottled(t *testing.T) {
	var n int
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
		n++ // Invoke is called from one goroutine here
		if n <= 3 {
			return lambdapool.Result{}, fmt.Errorf("invoke worker: %w", lambdapool.ErrThrottled)
		}
		return lambdapool.Result{Payload: []byte(`{}`)}, nil
	}}
	m := &SQSMapping{Invoker: inv, Function: "worker"}
	res, err := m.invoke(t.Context(), []byte(`{"Records":[]}`))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if string(res.Payload) != `{}` {
		t.Errorf("payload: got %s, want {}", res.Payload)
	}
	calls := inv.Calls()
	if len(calls) != 4 {
		t.Fatalf("invocations: got %d, want 4 (3 throttled, then delivered)", len(calls))
	}
	for i, c := range calls {
		if string(c.payload) != `{"Records":[]}` {
			t.Errorf("invocation %d: payload got %s, want the same batch again", i, c.payload)
		}
	}
}

func TestInvokeStopsRetryingWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) (lambdapool.Result, error) {
		cancel() // the runner stops while the function is throttled
		return lambdapool.Result{}, lambdapool.ErrThrottled
	}}
	m := &SQSMapping{Invoker: inv, Function: "worker"}
	if _, err := m.invoke(ctx, []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("invoke: got %v, want context.Canceled", err)
	}
}

func TestRunReturnsWhenCancelled(t *testing.T) {
	fake := &fakeSQS{}
	m := &SQSMapping{SQS: fake, Invoker: &fakeInvoker{}, Log: slog.New(slog.DiscardHandler), Concurrency: 3, BatchSize: 10}
	stop := runMapping(t, m)
	eventually(t, 10*time.Second, "every poller receiving", func() (bool, string) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return len(fake.receives) == 3, fmt.Sprintf("%d receives", len(fake.receives))
	})
	stop()
}

// runMapping runs m until the returned stop is called (or the test ends); stop fails the test
// if Run does not return after its context is cancelled.
func runMapping(t *testing.T, m *SQSMapping) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("Run: still running 30 s after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, failing the test with cond's last report after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last: %s", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Integration tests: a real queue with a redrive policy on fauxqs.

const maxReceiveCount = 2

type testQueue struct {
	url, arn, dlqURL string
}

func newSQSClient(url string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(url),
	})
}

// newQueue creates a queue with a 2 s visibility timeout whose messages move to a dead-letter
// queue after maxReceiveCount receives.
func newQueue(t *testing.T, client *sqs.Client) testQueue {
	t.Helper()
	ctx := t.Context()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "sources-" + hex.EncodeToString(suffix)

	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatalf("create dead-letter queue: %v", err)
	}
	dlqARN := queueARN(t, client, aws.ToString(dlq.QueueUrl))
	redrive, err := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": strconv.Itoa(maxReceiveCount)})
	if err != nil {
		t.Fatalf("marshal redrive policy: %v", err)
	}
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			"VisibilityTimeout": "5", // well above the 1 s batching window plus an invoke, even on a loaded machine
			"RedrivePolicy":     string(redrive),
		},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	url := aws.ToString(q.QueueUrl)
	return testQueue{url: url, arn: queueARN(t, client, url), dlqURL: aws.ToString(dlq.QueueUrl)}
}

func queueARN(t *testing.T, client *sqs.Client, url string) string {
	t.Helper()
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("get queue arn: %v", err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)]
}

// queueDepth returns how many messages are on the queue, visible or in flight.
func queueDepth(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		t.Fatalf("get queue depth: %v", err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("queue depth %q: %v", v, err)
		}
		total += n
	}
	return total
}

// sendMessages sends bodies m0..m<n-1> and returns their message ids by body.
func sendMessages(t *testing.T, client *sqs.Client, url string, n int) map[string]string {
	t.Helper()
	ids := make(map[string]string, n)
	for i := range n {
		body := "m" + strconv.Itoa(i)
		out, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
		if err != nil {
			t.Fatalf("send %s: %v", body, err)
		}
		ids[body] = aws.ToString(out.MessageId)
	}
	return ids
}

// drainBodies receives what is on url and adds the bodies to seen.
func drainBodies(t *testing.T, client *sqs.Client, url string, seen map[string]bool) {
	t.Helper()
	out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("receive from %s: %v", url, err)
	}
	for _, m := range out.Messages {
		seen[aws.ToString(m.Body)] = true
	}
}

// sqsFunction is a fake function behind an SQS mapping: decide answers call n (from 0), and
// every batch that reached the function (no invoke error) is recorded.
type sqsFunction struct {
	t      *testing.T
	decide func(n int, event events.SQSEvent) (lambdapool.Result, error)

	mu       sync.Mutex
	calls    int
	payloads [][]byte
	// receives holds, per message id, the ApproximateReceiveCount of each delivery.
	receives map[string][]int
	records  []events.SQSMessage
}

func (f *sqsFunction) Invoke(_ context.Context, function string, payload []byte) (lambdapool.Result, error) {
	var event events.SQSEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		f.t.Errorf("invoke %s: payload is not an SQS event: %v", function, err)
		return lambdapool.Result{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls
	f.calls++
	f.payloads = append(f.payloads, slices.Clone(payload))
	res, err := f.decide(n, event)
	if err != nil {
		return res, err
	}
	for _, r := range event.Records {
		count, convErr := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if convErr != nil {
			f.t.Errorf("message %s: ApproximateReceiveCount %q: %v", r.MessageId, r.Attributes["ApproximateReceiveCount"], convErr)
		}
		f.receives[r.MessageId] = append(f.receives[r.MessageId], count)
		f.records = append(f.records, r)
	}
	return res, nil
}

// deliveries returns a copy of the receive counts per message id.
func (f *sqsFunction) deliveries() map[string][]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]int, len(f.receives))
	for id, counts := range f.receives {
		out[id] = slices.Clone(counts)
	}
	return out
}

func newSQSFunction(t *testing.T, decide func(n int, event events.SQSEvent) (lambdapool.Result, error)) *sqsFunction {
	return &sqsFunction{t: t, decide: decide, receives: map[string][]int{}}
}

func newMapping(client *sqs.Client, q testQueue, inv Invoker) *SQSMapping {
	return &SQSMapping{
		SQS:                     client,
		Invoker:                 inv,
		Log:                     slog.New(slog.DiscardHandler),
		Function:                "worker",
		QueueURL:                q.url,
		QueueARN:                q.arn,
		Region:                  "us-east-1",
		BatchSize:               10,
		Window:                  time.Second,
		Concurrency:             1,
		ReportBatchItemFailures: true,
	}
}

func TestSQSMappingReportsOneFailure(t *testing.T) {
	t.Parallel()
	client := newSQSClient(requireFauxqs(t))
	q := newQueue(t, client)
	ids := sendMessages(t, client, q.url, 5)
	poison := ids["m2"]

	fn := newSQSFunction(t, func(_ int, event events.SQSEvent) (lambdapool.Result, error) {
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		for _, r := range event.Records {
			if r.MessageId == poison {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: poison})
			}
		}
		b, err := json.Marshal(resp)
		return lambdapool.Result{Payload: b}, err
	})
	stop := runMapping(t, newMapping(client, q, fn))

	dead := map[string]bool{}
	eventually(t, 90*time.Second, "m2 in the dead-letter queue", func() (bool, string) {
		drainBodies(t, client, q.dlqURL, dead)
		return dead["m2"], fmt.Sprintf("dead-letter queue %v, deliveries %v", dead, fn.deliveries())
	})
	eventually(t, 30*time.Second, "an empty queue", func() (bool, string) {
		n := queueDepth(t, client, q.url)
		return n == 0, fmt.Sprintf("%d messages left", n)
	})
	stop()

	got := fn.deliveries()
	for body, id := range ids {
		want := []int{1}
		if id == poison {
			want = []int{1, 2} // redelivered until the queue's maxReceiveCount moved it
		}
		if !slices.Equal(got[id], want) {
			t.Errorf("%s: receive counts of its deliveries got %v, want %v", body, got[id], want)
		}
	}
	if len(dead) != 1 {
		t.Errorf("dead-letter queue: got %v, want only m2", dead)
	}

	fn.mu.Lock()
	defer fn.mu.Unlock()
	for _, r := range fn.records {
		if r.EventSource != "aws:sqs" || r.EventSourceARN != q.arn || r.AWSRegion != "us-east-1" || r.ReceiptHandle == "" {
			t.Errorf("record %s: got source %q arn %q region %q handle %q, want aws:sqs, %s, us-east-1 and a handle",
				r.MessageId, r.EventSource, r.EventSourceARN, r.AWSRegion, r.ReceiptHandle, q.arn)
		}
	}
}

func TestSQSMappingFunctionErrorReturnsTheBatch(t *testing.T) {
	t.Parallel()
	client := newSQSClient(requireFauxqs(t))
	q := newQueue(t, client)
	ids := sendMessages(t, client, q.url, 5)

	fn := newSQSFunction(t, func(int, events.SQSEvent) (lambdapool.Result, error) {
		fe := &lambdapool.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}
		return lambdapool.Result{Payload: []byte(`{"errorType":"Runtime.ExitError","errorMessage":"exit status 2"}`), Err: fe}, nil
	})
	m := newMapping(client, q, fn)
	logs := &lockedBuffer{}
	m.Log = slog.New(slog.NewTextHandler(logs, nil))
	stop := runMapping(t, m)

	dead := map[string]bool{}
	eventually(t, 90*time.Second, "every message in the dead-letter queue", func() (bool, string) {
		drainBodies(t, client, q.dlqURL, dead)
		return len(dead) == len(ids), fmt.Sprintf("dead-letter queue %v, deliveries %v", dead, fn.deliveries())
	})
	stop()

	got := fn.deliveries()
	for body, id := range ids {
		counts := got[id]
		if len(counts) < maxReceiveCount {
			t.Errorf("%s: got %d deliveries, want at least %d: a failed batch returns to the queue whole", body, len(counts), maxReceiveCount)
		}
		if !slices.IsSorted(counts) || len(slices.Compact(slices.Clone(counts))) != len(counts) {
			t.Errorf("%s: receive counts got %v, want them growing with each delivery", body, counts)
		}
	}
	if n := queueDepth(t, client, q.url); n != 0 {
		t.Errorf("queue: got %d messages left, want 0 (all moved to the dead-letter queue)", n)
	}
	// A batch handed back whole is traceable: the log line names every message.
	for body, id := range ids {
		if !strings.Contains(logs.String(), id) {
			t.Errorf("%s: message %s is named in no log line about the failed batch:\n%s", body, id, logs.String())
		}
	}
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSQSMappingRetriesThrottledInvokes(t *testing.T) {
	t.Parallel()
	client := newSQSClient(requireFauxqs(t))
	q := newQueue(t, client)
	ids := sendMessages(t, client, q.url, 5)

	fn := newSQSFunction(t, func(n int, _ events.SQSEvent) (lambdapool.Result, error) {
		if n < 2 {
			return lambdapool.Result{}, fmt.Errorf("invoke worker: %w", lambdapool.ErrThrottled)
		}
		return lambdapool.Result{Payload: []byte(`null`)}, nil
	})
	stop := runMapping(t, newMapping(client, q, fn))

	eventually(t, 60*time.Second, "every message delivered and deleted", func() (bool, string) {
		got := fn.deliveries()
		for _, id := range ids {
			if len(got[id]) == 0 {
				return false, fmt.Sprintf("deliveries %v", got)
			}
		}
		n := queueDepth(t, client, q.url)
		return n == 0, fmt.Sprintf("%d messages left", n)
	})
	stop()

	fn.mu.Lock()
	payloads := slices.Clone(fn.payloads)
	fn.mu.Unlock()
	if len(payloads) < 3 {
		t.Fatalf("invocations: got %d, want at least 3 (two throttled, then delivered)", len(payloads))
	}
	for i := 1; i < 3; i++ {
		if !bytes.Equal(payloads[i], payloads[0]) {
			t.Errorf("invocation %d: got another batch than the throttled one\ngot  %s\nwant %s", i, payloads[i], payloads[0])
		}
	}
	if n := queueDepth(t, client, q.dlqURL); n != 0 {
		t.Errorf("dead-letter queue: got %d messages, want 0", n)
	}
}
