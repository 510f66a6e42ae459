package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
	"github.com/go-serverless/reference/infra/local/internal/standins"
)

const testStreamARN = "arn:aws:dynamodb:ddblocal:000000000000:table/Events/stream/2026-01-01T00:00:00.000"

// streamShard is one shard of a fakeStreams: its records, and whether it is closed.
type streamShard struct {
	id, parent string
	records    []types.Record
	closed     bool
}

// fakeStreams serves shards from memory. Iterators are "<shard>/<index of the next record>".
// appear lists shards that DescribeStream starts listing from its nth call on.
type fakeStreams struct {
	mu        sync.Mutex
	shards    []*streamShard
	appear    map[int]*streamShard
	describes int
	// iteratorTypes records each GetShardIterator's shard and type.
	iteratorTypes []string
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if s, ok := f.appear[f.describes]; ok {
		f.shards = append(f.shards, s)
	}
	desc := &types.StreamDescription{StreamArn: in.StreamArn}
	for _, s := range f.shards {
		sh := types.Shard{ShardId: aws.String(s.id)}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		desc.Shards = append(desc.Shards, sh)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: desc}, nil
}

func (f *fakeStreams) shard(id string) *streamShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(aws.ToString(in.ShardId))
	f.iteratorTypes = append(f.iteratorTypes, s.id+":"+string(in.ShardIteratorType))
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeLatest:
		pos = len(s.records)
	case types.ShardIteratorTypeAfterSequenceNumber:
		for i, r := range s.records {
			if aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber) {
				pos = i + 1
			}
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s/%d", s.id, pos))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, p, _ := strings.Cut(aws.ToString(in.ShardIterator), "/")
	pos, _ := strconv.Atoi(p)
	s := f.shard(id)
	end := min(pos+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &dynamodbstreams.GetRecordsOutput{Records: slices.Clone(s.records[pos:end])}
	if !s.closed || end < len(s.records) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", id, end))
	}
	return out, nil
}

// add appends a record to a shard while the mapping runs.
func (f *fakeStreams) add(shardID string, r types.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(shardID)
	s.records = append(s.records, r)
}

// streamRecord is an INSERT whose sequence number and accountId are seq.
func streamRecord(seq string) types.Record {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return types.Record{
		EventID:      aws.String("event-" + seq),
		EventName:    types.OperationTypeInsert,
		EventVersion: aws.String("1.1"),
		EventSource:  aws.String("aws:dynamodb"),
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: &created,
			Keys:                        map[string]types.AttributeValue{"accountId": &types.AttributeValueMemberS{Value: seq}},
			NewImage: map[string]types.AttributeValue{
				"accountId": &types.AttributeValueMemberS{Value: seq},
				"version":   &types.AttributeValueMemberN{Value: "1"},
			},
			SequenceNumber: aws.String(seq),
			SizeBytes:      aws.Int64(42),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

func streamRecords(seqs ...string) []types.Record {
	out := make([]types.Record, len(seqs))
	for i, s := range seqs {
		out[i] = streamRecord(s)
	}
	return out
}

// streamFunction is a fake function that records the sequence numbers of each batch it was
// invoked with and answers with decide.
type streamFunction struct {
	decide func(seqs []string, ev events.DynamoDBEvent) lambdapool.Result

	mu      sync.Mutex
	batches [][]string
	events  []events.DynamoDBEvent
}

func (f *streamFunction) Invoke(_ context.Context, _ string, payload []byte) (lambdapool.Result, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return lambdapool.Result{}, err
	}
	var seqs []string
	for _, r := range ev.Records {
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	f.mu.Lock()
	f.batches = append(f.batches, seqs)
	f.events = append(f.events, ev)
	f.mu.Unlock()
	if f.decide == nil {
		return lambdapool.Result{Payload: []byte(`{"batchItemFailures":[]}`)}, nil
	}
	return f.decide(seqs, ev), nil
}

func (f *streamFunction) Batches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

// failWith is the function error Lambda reports for a handler that returned an error.
func failWith(msg string) lambdapool.Result {
	return lambdapool.Result{Err: &lambdapool.FunctionError{Type: "errorString", Message: msg}}
}

// streamDestination records what an OnFailure destination received.
type streamDestination struct {
	mu      sync.Mutex
	records []map[string]any
}

func (d *streamDestination) Send(_ context.Context, record []byte) error {
	var m map[string]any
	if err := json.Unmarshal(record, &m); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records = append(d.records, m)
	return nil
}

func (d *streamDestination) Records() []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.records)
}

func newStreamMapping(streams StreamsAPI, fn Invoker) *StreamMapping {
	return &StreamMapping{
		Streams: streams, Invoker: fn, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Function: "app-Project", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:app-Project",
		StreamARN: testStreamARN, Region: "us-east-1",
		BatchSize: 10, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1,
		PollInterval: time.Millisecond,
		Backoff:      func(int) time.Duration { return 0 },
		Now:          func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

// runStreamMapping runs m until stop is called; stop waits for Run to return.
func runStreamMapping(t *testing.T, m *StreamMapping) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// waitForBatches waits until fn has been invoked n times (or fails the test after a generous
// timeout: this bounds a hang, it asserts nothing about speed).
func waitForBatches(t *testing.T, fn *streamFunction, n int) [][]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b := fn.Batches(); len(b) >= n {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got batches %v, want at least %d", fn.Batches(), n)
	return nil
}

func TestStreamMappingDeliversRecordsAsLambdaDoes(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2", "3")}}}
	fn := &streamFunction{}
	m := newStreamMapping(streams, fn)
	m.BatchSize = 2
	stop := runStreamMapping(t, m)
	got := waitForBatches(t, fn, 2)
	stop()

	if want := [][]string{{"1", "2"}, {"3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	// The JSON shape a Go handler (or any runtime) parses.
	payload, err := json.Marshal(fn.events[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(payload, &doc); err != nil {
		t.Fatal(err)
	}
	rec := doc.Records[0]
	for key, want := range map[string]any{
		"eventName": "INSERT", "eventSource": "aws:dynamodb", "eventSourceARN": testStreamARN,
		"awsRegion": "us-east-1", "eventID": "event-1", "eventVersion": "1.1",
	} {
		if rec[key] != want {
			t.Errorf("record[%s] = %v, want %v", key, rec[key], want)
		}
	}
	change, _ := rec["dynamodb"].(map[string]any)
	wantImage := map[string]any{"accountId": map[string]any{"S": "1"}, "version": map[string]any{"N": "1"}}
	if !reflect.DeepEqual(change["NewImage"], wantImage) {
		t.Errorf("dynamodb.NewImage = %v, want %v", change["NewImage"], wantImage)
	}
	if change["SequenceNumber"] != "1" || change["StreamViewType"] != "NEW_IMAGE" || change["ApproximateCreationDateTime"] != float64(1767225600) {
		t.Errorf("dynamodb = %v, want SequenceNumber 1, StreamViewType NEW_IMAGE, ApproximateCreationDateTime 1767225600", change)
	}
}

func TestAttributeValueConvertsEveryType(t *testing.T) {
	in := map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "x"}, "n": &types.AttributeValueMemberN{Value: "1.5"},
		"b": &types.AttributeValueMemberB{Value: []byte("hi")}, "bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true}, "ss": &types.AttributeValueMemberSS{Value: []string{"a"}},
		"ns": &types.AttributeValueMemberNS{Value: []string{"2"}}, "bs": &types.AttributeValueMemberBS{Value: [][]byte{[]byte("z")}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "y"}}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberN{Value: "3"}}},
	}
	got, err := json.Marshal(attributeMap(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":{"B":"aGk="},"bool":{"BOOL":true},"bs":{"BS":["eg=="]},"l":{"L":[{"S":"y"}]},"m":{"M":{"k":{"N":"3"}}},"n":{"N":"1.5"},"ns":{"NS":["2"]},"null":{"NULL":true},"s":{"S":"x"},"ss":{"SS":["a"]}}`
	if string(got) != want {
		t.Errorf("attributes = %s, want %s", got, want)
	}
}

func TestStreamMappingRetriesFromTheFirstReportedFailure(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2", "3", "4")}}}
	calls := 0
	fn := &streamFunction{decide: func(seqs []string, _ events.DynamoDBEvent) lambdapool.Result {
		calls++
		if calls == 1 { // records 3 and 4 fail the first time; 3 is the lowest
			return lambdapool.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"4"},{"itemIdentifier":"3"}]}`)}
		}
		return lambdapool.Result{Payload: []byte(`{}`)}
	}}
	m := newStreamMapping(streams, fn)
	m.ReportBatchItemFailures = true
	stop := runStreamMapping(t, m)
	waitForBatches(t, fn, 2)
	streams.add("s1", streamRecord("5"))
	got := waitForBatches(t, fn, 3)
	stop()

	if want := [][]string{{"1", "2", "3", "4"}, {"3", "4"}, {"5"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v (retry from the first failure, then move on)", got, want)
	}
}

func TestStreamMappingFailsTheWholeBatchOnAnUnknownIdentifier(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2")}}}
	calls := 0
	fn := &streamFunction{decide: func([]string, events.DynamoDBEvent) lambdapool.Result {
		calls++
		if calls == 1 {
			return lambdapool.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"99"}]}`)}
		}
		return lambdapool.Result{Payload: []byte(`{}`)}
	}}
	m := newStreamMapping(streams, fn)
	m.ReportBatchItemFailures = true
	stop := runStreamMapping(t, m)
	got := waitForBatches(t, fn, 2)
	stop()
	if want := [][]string{{"1", "2"}, {"1", "2"}}; !reflect.DeepEqual(got[:2], want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}

func TestStreamMappingBisectsAndSendsOnlyThePoisonRecordToOnFailure(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2", "3", "4")}}}
	fn := &streamFunction{decide: func(seqs []string, _ events.DynamoDBEvent) lambdapool.Result {
		if slices.Contains(seqs, "3") {
			return failWith("cannot project 3")
		}
		return lambdapool.Result{}
	}}
	dest := &streamDestination{}
	m := newStreamMapping(streams, fn)
	m.MaximumRetryAttempts = 2
	m.BisectBatchOnFunctionError = true
	m.OnFailure = dest
	stop := runStreamMapping(t, m)
	waitForBatches(t, fn, 5)
	streams.add("s1", streamRecord("5"))
	got := waitForBatches(t, fn, 6)
	stop()

	want := [][]string{{"1", "2", "3", "4"}, {"1", "2"}, {"3", "4"}, {"3"}, {"4"}, {"5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	records := dest.Records()
	if len(records) != 1 {
		t.Fatalf("OnFailure got %d records, want 1: %v", len(records), records)
	}
	info, _ := records[0]["DDBStreamBatchInfo"].(map[string]any)
	wantInfo := map[string]any{
		"shardId": "s1", "startSequenceNumber": "3", "endSequenceNumber": "3", "batchSize": float64(1),
		"streamArn": testStreamARN, "approximateArrivalOfFirstRecord": "2026-01-01T00:00:00.000Z",
		"approximateArrivalOfLastRecord": "2026-01-01T00:00:00.000Z",
	}
	if !reflect.DeepEqual(info, wantInfo) {
		t.Errorf("DDBStreamBatchInfo = %v, want %v", info, wantInfo)
	}
	reqCtx, _ := records[0]["requestContext"].(map[string]any)
	if reqCtx["condition"] != "RetryAttemptsExhausted" || reqCtx["functionArn"] != m.FunctionARN || reqCtx["approximateInvokeCount"] != float64(3) {
		t.Errorf("requestContext = %v, want RetryAttemptsExhausted, %s, 3 invokes", reqCtx, m.FunctionARN)
	}
	if records[0]["timestamp"] != "2026-01-02T03:04:05.000Z" || records[0]["version"] != "1.0" {
		t.Errorf("timestamp, version = %v, %v; want the injected clock and 1.0", records[0]["timestamp"], records[0]["version"])
	}
}

func TestStreamMappingGivesUpTheWholeBatchWithoutBisect(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2", "3")}}}
	fn := &streamFunction{decide: func(seqs []string, _ events.DynamoDBEvent) lambdapool.Result {
		if slices.Contains(seqs, "2") {
			return failWith("poison")
		}
		return lambdapool.Result{}
	}}
	dest := &streamDestination{}
	m := newStreamMapping(streams, fn)
	m.BatchSize = 2
	m.MaximumRetryAttempts = 1
	m.OnFailure = dest
	stop := runStreamMapping(t, m)
	got := waitForBatches(t, fn, 3)
	stop()

	if want := [][]string{{"1", "2"}, {"1", "2"}, {"3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v (one retry, then give up and move on)", got, want)
	}
	records := dest.Records()
	if len(records) != 1 {
		t.Fatalf("OnFailure got %d records, want 1", len(records))
	}
	info, _ := records[0]["DDBStreamBatchInfo"].(map[string]any)
	if info["startSequenceNumber"] != "1" || info["endSequenceNumber"] != "2" || info["batchSize"] != float64(2) {
		t.Errorf("DDBStreamBatchInfo = %v, want records 1..2", info)
	}
}

func TestStreamMappingRetriesForeverByDefault(t *testing.T) {
	streams := &fakeStreams{shards: []*streamShard{{id: "s1", records: streamRecords("1", "2")}}}
	fn := &streamFunction{decide: func([]string, events.DynamoDBEvent) lambdapool.Result { return failWith("down") }}
	dest := &streamDestination{}
	m := newStreamMapping(streams, fn) // MaximumRetryAttempts -1
	m.OnFailure = dest
	stop := runStreamMapping(t, m)
	got := waitForBatches(t, fn, 20)
	stop()
	for i, b := range got {
		if !reflect.DeepEqual(b, []string{"1", "2"}) {
			t.Fatalf("batch %d = %v, want the same failed batch retried", i, b)
		}
	}
	if n := len(dest.Records()); n != 0 {
		t.Errorf("OnFailure got %d records, want none while retries are unlimited", n)
	}
}

func TestStreamMappingReadsChildShardsAfterTheirParents(t *testing.T) {
	parent := &streamShard{id: "p", records: streamRecords("1", "2"), closed: true}
	child := &streamShard{id: "c", parent: "p", records: streamRecords("3")}
	late := &streamShard{id: "late", records: streamRecords("9")}
	// The child is listed before its parent; another shard appears at the third DescribeStream.
	streams := &fakeStreams{shards: []*streamShard{child, parent}, appear: map[int]*streamShard{3: late}}
	fn := &streamFunction{}
	m := newStreamMapping(streams, fn)
	m.BatchSize = 1
	m.StartingPosition = "LATEST"
	stop := runStreamMapping(t, m)
	waitForBatches(t, fn, 1)
	stop()

	// With LATEST the shards open at start are read from their end: only the late shard's record
	// arrives, read from its start.
	if got, want := fn.Batches(), [][]string{{"9"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	streams.mu.Lock()
	kinds := slices.Clone(streams.iteratorTypes)
	streams.mu.Unlock()
	slices.Sort(kinds)
	if want := []string{"c:LATEST", "late:TRIM_HORIZON", "p:LATEST"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("iterator types = %v, want %v", kinds, want)
	}

	// From TRIM_HORIZON every record arrives, the parent's before the child's.
	streams = &fakeStreams{shards: []*streamShard{
		{id: "c", parent: "p", records: streamRecords("3")},
		{id: "p", records: streamRecords("1", "2"), closed: true},
	}}
	fn = &streamFunction{}
	m = newStreamMapping(streams, fn)
	m.BatchSize = 1
	stop = runStreamMapping(t, m)
	got := waitForBatches(t, fn, 3)
	stop()
	if want := [][]string{{"1"}, {"2"}, {"3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}

// TestStreamMappingOnDynamoDBLocal runs the mapping against the stand-in's real stream: the
// records, their order, their shape and a retry from a reported failure.
func TestStreamMappingOnDynamoDBLocal(t *testing.T) {
	endpoint := startDynamoDBLocal(t)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.DisableValidateResponseChecksum = true
	})
	streams := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
	ctx := context.Background()
	out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Events"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("version"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("version"), KeyType: ddbtypes.KeyTypeRange}},
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	put := func(v int) {
		t.Helper()
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Events"), Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: "a1"}, "version": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(v)},
		}})
		if err != nil {
			t.Fatalf("put version %d: %v", v, err)
		}
	}
	for v := 1; v <= 3; v++ {
		put(v)
	}

	var mu sync.Mutex
	var versions []string
	failedOnce := false
	fn := &streamFunction{decide: func(_ []string, ev events.DynamoDBEvent) lambdapool.Result {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			v := r.Change.NewImage["version"].Number()
			if v == "2" && !failedOnce {
				failedOnce = true
				return lambdapool.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"` + r.Change.SequenceNumber + `"}]}`)}
			}
			versions = append(versions, v)
			if r.EventSourceArn != aws.ToString(out.TableDescription.LatestStreamArn) || r.EventName != "INSERT" {
				t.Errorf("record source %s, name %s; want the table's stream, INSERT", r.EventSourceArn, r.EventName)
			}
		}
		return lambdapool.Result{}
	}}
	m := newStreamMapping(streams, fn)
	m.StreamARN = aws.ToString(out.TableDescription.LatestStreamArn)
	m.ReportBatchItemFailures = true
	m.PollInterval = 20 * time.Millisecond
	stop := runStreamMapping(t, m)
	deadline := time.Now().Add(20 * time.Second)
	put(4)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(versions)
		mu.Unlock()
		if n >= 4 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"1", "2", "3", "4"}; !reflect.DeepEqual(versions, want) {
		t.Errorf("versions processed = %v, want %v (in order, the failed one retried once)", versions, want)
	}
}

// startDynamoDBLocal starts the stand-in for one test, or skips (fails under REQUIRE_STANDINS=1)
// when it is not downloaded.
func startDynamoDBLocal(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for filepath.Dir(root) != root {
		if _, err := os.Stat(filepath.Join(root, "go.work")); err == nil {
			break
		}
		root = filepath.Dir(root)
	}
	paths := standins.DefaultPaths(filepath.Join(root, ".cache"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := standins.StartDynamoDB(ctx, paths, 0, nil)
	if err != nil {
		if os.Getenv("REQUIRE_STANDINS") == "1" {
			t.Fatalf("REQUIRE_STANDINS=1 and %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p.URL
}
