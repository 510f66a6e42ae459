package sources

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// StreamsAPI is the part of the DynamoDB Streams client a stream mapping calls. DynamoDB Local
// serves it on the same endpoint as DynamoDB.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// StreamMapping is a DynamoDB Streams event source mapping as Lambda runs it: one poller per
// shard reads records in order and hands them to the function in batches. A shard does not move
// past a batch until the batch succeeded or was given up on, so an account's events arrive in
// order; a shard split's children are read after their parent is finished.
//
// A failed batch is retried: from its first failed record when the function reports
// batchItemFailures (everything before it is checkpointed), split in two halves when
// BisectBatchOnFunctionError is set, and at most MaximumRetryAttempts times, after which its
// description goes to OnFailure and the shard moves on.
type StreamMapping struct {
	Streams  StreamsAPI
	Invoker  Invoker
	Log      *slog.Logger
	Function string
	// FunctionARN names the function in OnFailure records.
	FunctionARN string
	StreamARN   string
	Region      string
	// BatchSize is the most records in one invocation (Lambda's default for streams is 100).
	BatchSize int
	// StartingPosition is TRIM_HORIZON (every record the stream holds) or LATEST (only records
	// written after the mapping starts). Shards discovered later are always read from their start.
	StartingPosition string
	// MaximumRetryAttempts bounds the retries of a failed batch; -1 retries until it succeeds
	// (Lambda's default, which blocks the shard behind a poison record).
	MaximumRetryAttempts int
	// BisectBatchOnFunctionError splits a failed batch in two and retries the halves separately,
	// so a poison record ends up alone and only it is given up on.
	BisectBatchOnFunctionError bool
	// ReportBatchItemFailures is FunctionResponseTypes [ReportBatchItemFailures].
	ReportBatchItemFailures bool
	// OnFailure receives a description of every batch the mapping gave up on (not the records
	// themselves, as with Lambda: the stream keeps them for 24 hours); nil logs it instead.
	OnFailure Destination
	// PollInterval is how long a shard's poller waits after an empty read (Lambda polls each
	// shard four times a second). Zero means 250 ms.
	PollInterval time.Duration
	// Backoff is the wait before retry n of a failed batch; nil means 100 ms doubling to 5 s.
	Backoff func(n int) time.Duration
	// Now stamps OnFailure records; nil means time.Now.
	Now func() time.Time
}

// Run polls until ctx ends: it looks for new shards every few poll intervals and runs one poller
// per shard.
func (m *StreamMapping) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := map[string]chan struct{}{}
	position := types.ShardIteratorType(m.StartingPosition)
	if position == "" {
		position = types.ShardIteratorTypeTrimHorizon
	}
	for ctx.Err() == nil {
		shards, err := m.shards(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.Log.Error("dynamodb stream event source", "function", m.Function, "stream", m.StreamARN, "error", err)
			}
			sleep(ctx, time.Second)
			continue
		}
		// Register every new shard before starting any, so a child finds its parent's channel
		// whatever order DescribeStream lists them in.
		var fresh []types.Shard
		for _, s := range shards {
			id := aws.ToString(s.ShardId)
			if _, ok := done[id]; !ok {
				done[id] = make(chan struct{})
				fresh = append(fresh, s)
			}
		}
		for _, s := range fresh {
			id := aws.ToString(s.ShardId)
			finished, parent := done[id], done[aws.ToString(s.ParentShardId)] // parent is nil when it has aged out
			wg.Add(1)
			go func(start types.ShardIteratorType) {
				defer wg.Done()
				defer close(finished)
				if parent != nil {
					select {
					case <-parent:
					case <-ctx.Done():
						return
					}
				}
				m.runShard(ctx, id, start)
			}(position)
		}
		position = types.ShardIteratorTypeTrimHorizon
		sleep(ctx, 4*m.pollInterval())
	}
}

// shards lists every shard of the stream, following DescribeStream's pages.
func (m *StreamMapping) shards(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(m.StreamARN)}
	for {
		out, err := m.Streams.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if out.StreamDescription.LastEvaluatedShardId == nil {
			return shards, nil
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
}

// runShard reads one shard until it is closed and drained, or ctx ends.
func (m *StreamMapping) runShard(ctx context.Context, shardID string, position types.ShardIteratorType) {
	var checkpoint string // the sequence number of the last record handled
	iterator := ""
	for ctx.Err() == nil {
		if iterator == "" {
			in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(m.StreamARN), ShardId: aws.String(shardID), ShardIteratorType: position}
			if checkpoint != "" {
				in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(checkpoint)
			}
			out, err := m.Streams.GetShardIterator(ctx, in)
			if err != nil {
				m.logError(ctx, "get shard iterator", shardID, err)
				sleep(ctx, time.Second)
				continue
			}
			iterator = aws.ToString(out.ShardIterator)
			if iterator == "" {
				return // closed and nothing left after the checkpoint
			}
		}
		out, err := m.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(iterator), Limit: aws.Int32(int32(m.batchSize()))})
		if err != nil {
			// An expired or trimmed iterator is replaced from the checkpoint; anything else retried.
			m.logError(ctx, "get records", shardID, err)
			iterator = ""
			sleep(ctx, time.Second)
			continue
		}
		if len(out.Records) > 0 {
			if !m.deliver(ctx, shardID, out.Records) {
				return // stopping: the batch was not finished, and a restart reads it again
			}
			checkpoint = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		}
		if out.NextShardIterator == nil {
			return // the shard is closed and drained: its children may start
		}
		iterator = aws.ToString(out.NextShardIterator)
		if len(out.Records) == 0 {
			sleep(ctx, m.pollInterval())
		}
	}
}

// pendingBatch is a run of records still to deliver and how many times it has failed.
type pendingBatch struct {
	records  []types.Record
	failures int
}

// deliver hands records to the function until each has succeeded or been given up on. It
// reports false when ctx ended first.
func (m *StreamMapping) deliver(ctx context.Context, shardID string, records []types.Record) bool {
	queue := []pendingBatch{{records: records}}
	for len(queue) > 0 {
		b := queue[0]
		failedFrom, reason, err := m.invokeBatch(ctx, b.records)
		if err != nil {
			return false
		}
		if failedFrom == len(b.records) {
			queue = queue[1:]
			continue
		}
		// Records before the first failure are done: only the rest is retried.
		rest := pendingBatch{records: b.records[failedFrom:], failures: b.failures + 1}
		m.Log.Warn("stream batch failed", "function", m.Function, "shard", shardID, "records", len(rest.records), "failures", rest.failures, "reason", reason)
		if m.MaximumRetryAttempts >= 0 && rest.failures > m.MaximumRetryAttempts {
			if !m.giveUp(ctx, shardID, rest) {
				return false
			}
			queue = queue[1:]
			continue
		}
		if m.BisectBatchOnFunctionError && len(rest.records) > 1 {
			half := len(rest.records) / 2
			queue = append([]pendingBatch{
				{records: rest.records[:half], failures: rest.failures},
				{records: rest.records[half:], failures: rest.failures},
			}, queue[1:]...)
		} else {
			queue[0] = rest
		}
		if !sleep(ctx, m.backoff(rest.failures)) {
			return false
		}
	}
	return true
}

// invokeBatch invokes the function with records and returns the index of the first record that
// failed (len(records) when all succeeded) and why. err is set only when ctx ended.
func (m *StreamMapping) invokeBatch(ctx context.Context, records []types.Record) (int, string, error) {
	event := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(records))}
	for i, r := range records {
		event.Records[i] = m.record(r)
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return 0, "marshal event: " + err.Error(), nil // cannot happen with these types; fail the batch
	}
	backoff := 100 * time.Millisecond
	var result lambdapool.Result
	for {
		result, err = m.Invoker.Invoke(ctx, m.Function, payload)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		if !errors.Is(err, lambdapool.ErrThrottled) {
			m.Log.Warn("invoke failed; retrying the same batch", "function", m.Function, "error", err)
		}
		if !sleep(ctx, backoff) {
			return 0, "", ctx.Err()
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	if result.Err != nil {
		return 0, "function error " + result.Err.Type + ": " + result.Err.Message, nil
	}
	if !m.ReportBatchItemFailures {
		return len(records), "", nil
	}
	return firstFailure(records, result.Payload)
}

// firstFailure reads a batch response. As with Lambda, a response that names a record not in the
// batch, or names none with an empty identifier, fails the whole batch.
func firstFailure(records []types.Record, payload []byte) (int, string, error) {
	var resp events.DynamoDBEventResponse
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &resp); err != nil {
			return 0, "invalid batch response: " + err.Error(), nil
		}
	}
	first := len(records)
	for _, f := range resp.BatchItemFailures {
		found := false
		for i, r := range records {
			if f.ItemIdentifier != "" && aws.ToString(r.Dynamodb.SequenceNumber) == f.ItemIdentifier {
				first, found = min(first, i), true
				break
			}
		}
		if !found {
			return 0, fmt.Sprintf("batch response names unknown record %q", f.ItemIdentifier), nil
		}
	}
	return first, fmt.Sprintf("function reported record %d of %d failed", first+1, len(records)), nil
}

// failureRecord is what Lambda sends to a stream mapping's OnFailure destination.
type failureRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version   string          `json:"version"`
	Timestamp string          `json:"timestamp"`
	BatchInfo streamBatchInfo `json:"DDBStreamBatchInfo"`
}

type streamBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// giveUp sends the batch's description to OnFailure (retrying until it is sent, or ctx ends: a
// batch given up on must not also be forgotten), or logs it when there is no destination.
func (m *StreamMapping) giveUp(ctx context.Context, shardID string, b pendingBatch) bool {
	first, last := b.records[0].Dynamodb, b.records[len(b.records)-1].Dynamodb
	var rec failureRecord
	rec.RequestContext.RequestID = rand.Text()
	rec.RequestContext.FunctionARN = m.FunctionARN
	rec.RequestContext.Condition = "RetryAttemptsExhausted"
	rec.RequestContext.ApproximateInvokeCount = b.failures
	rec.ResponseContext.StatusCode = 200
	rec.ResponseContext.ExecutedVersion = "$LATEST"
	rec.ResponseContext.FunctionError = "Unhandled"
	rec.Version = "1.0"
	rec.Timestamp = m.now().UTC().Format("2006-01-02T15:04:05.000Z")
	rec.BatchInfo = streamBatchInfo{
		ShardID:                         shardID,
		StartSequenceNumber:             aws.ToString(first.SequenceNumber),
		EndSequenceNumber:               aws.ToString(last.SequenceNumber),
		ApproximateArrivalOfFirstRecord: arrival(first),
		ApproximateArrivalOfLastRecord:  arrival(last),
		BatchSize:                       len(b.records),
		StreamARN:                       m.StreamARN,
	}
	if m.OnFailure == nil {
		m.Log.Error("stream batch given up on; no OnFailure destination", "function", m.Function, "shard", shardID, "batch", rec.BatchInfo)
		return true
	}
	body, err := json.Marshal(rec)
	if err != nil {
		panic(fmt.Sprintf("marshal failure record: %v", err)) // plain strings and ints always marshal
	}
	for {
		err := m.OnFailure.Send(ctx, body)
		if err == nil {
			m.Log.Warn("stream batch given up on; sent to OnFailure", "function", m.Function, "shard", shardID, "records", len(b.records))
			return true
		}
		m.logError(ctx, "send to OnFailure", shardID, err)
		if !sleep(ctx, time.Second) {
			return false
		}
	}
}

func arrival(r *types.StreamRecord) string {
	if r == nil || r.ApproximateCreationDateTime == nil {
		return ""
	}
	return r.ApproximateCreationDateTime.UTC().Format("2006-01-02T15:04:05.000Z")
}

// record converts a stream record to the record Lambda hands the function.
func (m *StreamMapping) record(r types.Record) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		AWSRegion:      m.Region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: m.StreamARN,
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           attributeMap(d.Keys),
			NewImage:       attributeMap(d.NewImage),
			OldImage:       attributeMap(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return out
}

// attributeMap converts the Streams API's attribute values to the event's JSON shape.
func attributeMap(in map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if in == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(in))
	for k, v := range in {
		out[k] = attributeValue(v)
	}
	return out
}

func attributeValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			list[i] = attributeValue(x)
		}
		return events.NewListAttribute(list)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(attributeMap(v.Value))
	default: // *types.AttributeValueMemberNULL
		return events.NewNullAttribute()
	}
}

func (m *StreamMapping) logError(ctx context.Context, doing, shardID string, err error) {
	if ctx.Err() == nil {
		m.Log.Error("dynamodb stream event source: "+doing, "function", m.Function, "stream", m.StreamARN, "shard", shardID, "error", err)
	}
}

func (m *StreamMapping) batchSize() int {
	if m.BatchSize <= 0 {
		return 100
	}
	return min(m.BatchSize, 1000) // GetRecords returns at most 1,000 records
}

func (m *StreamMapping) pollInterval() time.Duration {
	if m.PollInterval <= 0 {
		return 250 * time.Millisecond
	}
	return m.PollInterval
}

func (m *StreamMapping) backoff(n int) time.Duration {
	if m.Backoff != nil {
		return m.Backoff(n)
	}
	return min(100*time.Millisecond<<min(n-1, 10), 5*time.Second)
}

func (m *StreamMapping) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}
