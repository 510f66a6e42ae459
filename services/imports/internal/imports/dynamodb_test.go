package imports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
)

func TestDynamoStoreCheckpointRules(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	imp := Import{ID: "i-1", Owner: "alice", Bucket: "b", Key: "imports/alice/a.csv", ETag: "e", Size: 100, Format: FormatCSV, Status: StatusRunning, CreatedAt: now, UpdatedAt: now}

	if _, err := s.Get(ctx, "i-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Create = %v; want ErrNotFound", err)
	}
	if err := s.Create(ctx, imp); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, imp); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Create = %v; want ErrConflict", err)
	}
	claimed, err := s.Claim(ctx, "i-1", 0, now)
	if err != nil || claimed.Invocations != 1 || claimed.Depth != 0 || claimed.Key != imp.Key {
		t.Fatalf("Claim(0) = %+v, %v; want the import with 1 invocation", claimed, err)
	}
	if err := s.Checkpoint(ctx, "i-1", 0, Checkpoint{Offset: 40, Line: 3, Accepted: 2, Rejected: 1, Hop: &Hop{Depth: 0}, Now: now}); err != nil {
		t.Fatal(err)
	}
	// A second invocation from the same offset lost the race: its checkpoint is refused, and
	// its hop is not recorded.
	if err := s.Checkpoint(ctx, "i-1", 0, Checkpoint{Offset: 40, Line: 3, Accepted: 2, Rejected: 1, Hop: &Hop{Depth: 1}, Now: now}); !errors.Is(err, ErrConflict) {
		t.Fatalf("Checkpoint from a stale offset = %v; want ErrConflict", err)
	}
	if _, err := s.Claim(ctx, "i-1", 2, now); err != nil {
		t.Fatalf("Claim(2): %v", err)
	}
	if _, err := s.Claim(ctx, "i-1", 1, now); !errors.Is(err, ErrConflict) {
		t.Fatalf("Claim(1) after hop 2 = %v; want ErrConflict", err)
	}
	if err := s.Fail(ctx, "i-1", 1, "late report", now); !errors.Is(err, ErrConflict) {
		t.Fatalf("Fail from hop 1 after hop 2 claimed = %v; want ErrConflict", err)
	}
	if err := s.Checkpoint(ctx, "i-1", 40, Checkpoint{Offset: 100, Line: 7, Accepted: 4, Done: true, Hop: &Hop{Depth: 2, Offset: 40, Line: 3}, Now: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "i-1")
	if want := []Hop{{Depth: 0}, {Depth: 2, Offset: 40, Line: 3}}; !slices.Equal(got.Hops, want) {
		t.Errorf("hops = %+v; want %+v, the refused checkpoint's left out", got.Hops, want)
	}
	if got.Status != StatusSucceeded || got.Offset != 100 || got.Line != 7 || got.Accepted != 6 || got.Rejected != 1 || got.Invocations != 2 || got.FinishedAt == nil {
		t.Fatalf("import = %+v; want SUCCEEDED at byte 100 line 7, 6 accepted, 1 rejected, 2 invocations", got)
	}
	if _, err := s.Claim(ctx, "i-1", 3, now); !errors.Is(err, ErrConflict) {
		t.Errorf("Claim of a finished import = %v; want ErrConflict", err)
	}
	if err := s.Fail(ctx, "i-1", 3, "x", now); !errors.Is(err, ErrConflict) {
		t.Errorf("Fail of a finished import = %v; want ErrConflict", err)
	}
}

func TestDynamoStoreWritesAndReadsRejects(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	var rejects []Reject
	for line := int64(60); line >= 1; line-- { // out of order, more than one BatchWriteItem
		rejects = append(rejects, Reject{Line: line, Reason: fmt.Sprintf("reason %d", line)})
	}
	if err := s.WriteRejects(ctx, "i-1", rejects); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRejects(ctx, "i-1", rejects[:5]); err != nil { // a rerun rewrites
		t.Fatal(err)
	}
	got, err := s.Rejects(ctx, "i-1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0] != (Reject{Line: 1, Reason: "reason 1"}) || got[9].Line != 10 {
		t.Errorf("Rejects = %+v; want lines 1 to 10 in order", got)
	}
}

// unprocessedDB leaves the last item of each BatchWriteItem call unprocessed the first times,
// as DynamoDB does when it throttles a batch.
type unprocessedDB struct {
	DynamoDBAPI
	refusals int
	calls    int
}

func (u *unprocessedDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	u.calls++
	for table, reqs := range in.RequestItems {
		if u.refusals > 0 && len(reqs) > 0 {
			u.refusals--
			keep, left := reqs[:len(reqs)-1], reqs[len(reqs)-1:]
			if len(keep) == 0 {
				return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: left}}, nil
			}
			if _, err := u.DynamoDBAPI.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: keep}}, opts...); err != nil {
				return nil, err
			}
			return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: left}}, nil
		}
	}
	return u.DynamoDBAPI.BatchWriteItem(ctx, in, opts...)
}

func TestDynamoStoreRetriesUnprocessedItems(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	var waits []time.Duration
	s.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	s.WriteAttempts = 4
	db := &unprocessedDB{DynamoDBAPI: s.DB, refusals: 3}
	s.DB = db

	orders := []Order{{ImportID: "i-1", Line: 1, OrderID: "o-1", Customer: "Ada", Amount: 1, Currency: "EUR"}, {ImportID: "i-1", Line: 2, OrderID: "o-2", Customer: "Bob", Amount: 2, Currency: "EUR"}}
	if err := s.WriteOrders(ctx, orders); err != nil {
		t.Fatalf("WriteOrders: %v", err)
	}
	if n := countItems(t, s, s.OrdersTable, "i-1"); n != 2 {
		t.Errorf("%d orders stored; want 2", n)
	}
	if fmt.Sprint(waits) != "[50ms 100ms 200ms]" {
		t.Errorf("waits %v; want exponential backoff [50ms 100ms 200ms]", waits)
	}
	// Past WriteAttempts the write fails, so the checkpoint does not move past lost items.
	db.refusals = 10
	err := s.WriteOrders(ctx, orders)
	if !errors.Is(err, ErrUnprocessed) {
		t.Errorf("WriteOrders with every attempt throttled = %v; want ErrUnprocessed", err)
	}
}

// countItems counts an import's items in table with a consistent query.
func countItems(t testing.TB, s DynamoStore, table, id string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewQueryPaginator(s.DB.(dynamodb.QueryAPIClient), &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("importId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
		Select:                    types.SelectCount, ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("count items: %v", err)
		}
		n += int(page.Count)
	}
	return n
}

func TestS3ObjectsRangeAndETag(t *testing.T) {
	ctx := context.Background()
	client, bucket := s3test.Start(t)
	objects := S3Objects{S3: client, Calls: budget.Calls{Timeout: CallTimeout}}
	body := "o-1,Zoë,1,EUR\no-2,日本,2,JPY\n"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("imports/alice/a.csv"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	obj, err := objects.Head(ctx, bucket, "imports/alice/a.csv")
	if err != nil || obj.Size != int64(len(body)) || obj.ETag == "" || strings.Contains(obj.ETag, `"`) {
		t.Fatalf("Head = %+v, %v; want the size and an unquoted ETag", obj, err)
	}
	if _, err := objects.Head(ctx, bucket, "imports/alice/none.csv"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Head of a missing object = %v; want ErrObjectNotFound", err)
	}
	offset := int64(strings.Index(body, "o-2"))
	for _, tt := range []struct {
		length int64
		want   string
	}{
		{5, "o-2,\xe6"},                       // bytes offset..offset+4: the range ends inside a character
		{100, "o-2,日本,2,JPY\n"},               // past the end: up to the end, as S3 answers
		{obj.Size - offset, "o-2,日本,2,JPY\n"}, // exactly to the end
	} {
		r, err := objects.Open(ctx, bucket, obj.Key, obj.ETag, offset, tt.length)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if string(got) != tt.want {
			t.Errorf("Range GET of %d bytes from byte %d = %q; want %q", tt.length, offset, got, tt.want)
		}
	}
	// The file is replaced: a chain still reading the old version must not mix the two.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(obj.Key), Body: bytes.NewReader([]byte("other\n"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Open(ctx, bucket, obj.Key, obj.ETag, 0, obj.Size); !errors.Is(err, ErrObjectChanged) {
		t.Errorf("Open of a replaced object = %v; want ErrObjectChanged", err)
	}
}

func TestChainOnDynamoDBAndS3(t *testing.T) {
	// The whole chain against the real stand-ins: DynamoDB Local and versitygw, a file needing
	// at least 5 invocations, a batch killed mid-way, and every record stored exactly once.
	ctx := context.Background()
	store := newDynamoStore(t)
	client, bucket := s3test.Start(t)
	body, want := ordersFile(500)
	body += "o-bad,not json\n"
	key := "imports/alice/orders.ndjson"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	objects := S3Objects{S3: client, Calls: budget.Calls{Timeout: CallTimeout}}
	obj, err := objects.Head(ctx, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	killer := &killingStore{Store: store, killAt: 9}
	c := newChain(t, killer, objects)
	imp := c.start(store, obj)
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 500 || got.Rejected != 1 || got.Line != 501 || got.Offset != obj.Size {
		t.Fatalf("import = %s, %d accepted, %d rejected, line %d, byte %d/%d; want SUCCEEDED, 500, 1, line 501, at the end", got.Status, got.Accepted, got.Rejected, got.Line, got.Offset, obj.Size)
	}
	if c.runs < 5 || got.Invocations != c.runs {
		t.Errorf("%d invocations ran, %d recorded; want at least 5, all recorded", c.runs, got.Invocations)
	}
	if !killer.killed {
		t.Error("no batch was killed; the test proves less than it says")
	}
	if n := countItems(t, store, store.OrdersTable, imp.ID); n != len(want) {
		t.Errorf("%d order items; want %d, one per valid line", n, len(want))
	}
	rejects, err := store.Rejects(ctx, imp.ID, 10)
	if err != nil || len(rejects) != 1 || rejects[0].Line != 501 {
		t.Errorf("rejects = %+v, %v; want line 501", rejects, err)
	}
	// Spot-check that multi-byte customers survived S3, the chain and DynamoDB.
	out, err := store.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(store.OrdersTable), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"importId": &types.AttributeValueMemberS{Value: imp.ID}, "line": &types.AttributeValueMemberN{Value: "377"},
	}})
	if err != nil || out.Item["customer"].(*types.AttributeValueMemberS).Value != want[377].Customer {
		t.Errorf("line 377 = %v, %v; want customer %q", out.Item["customer"], err, want[377].Customer)
	}
}

// killingStore kills (fails) the killAt-th batch after half its orders are written.
type killingStore struct {
	Store
	killAt  int
	batches int
	killed  bool
}

func (k *killingStore) WriteOrders(ctx context.Context, orders []Order) error {
	k.batches++
	if k.batches == k.killAt {
		k.killed = true
		if err := k.Store.WriteOrders(ctx, orders[:len(orders)/2]); err != nil {
			return err
		}
		return context.DeadlineExceeded
	}
	return k.Store.WriteOrders(ctx, orders)
}
