package imports_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore/dynamostoretest"
	"github.com/go-serverless/reference/services/imports/internal/imports/s3objects"
	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
)

// These tests run the chain on the S3 adapter, package s3objects, and the first of them on the
// DynamoDB adapter, package dynamostore, too. Both import package imports, so the tests are in
// package imports_test, with the test helpers export_test.go lends them.

func TestChainOnDynamoDBAndS3(t *testing.T) {
	// The whole chain against the real stand-ins: DynamoDB Local and versitygw, a file needing
	// at least 5 invocations, a batch killed mid-way, and every record stored exactly once.
	ctx := context.Background()
	store := dynamostoretest.New(t)
	client, bucket := s3test.Start(t)
	body, want := imports.OrdersFile(500)
	body += "o-bad,not json\n"
	key := "imports/alice/orders.ndjson"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	objects := s3objects.Objects{S3: client, Calls: budget.Calls{Timeout: imports.CallTimeout}}
	obj, err := objects.Head(ctx, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	killer := &killingStore{Store: store, killAt: 9}
	c := imports.NewChain(t, killer, objects)
	imp := c.Start(store, obj)
	c.Drain()

	got := imports.Get(t, store, imp.ID)
	if got.Status != imports.StatusSucceeded || got.Accepted != 500 || got.Rejected != 1 || got.Line != 501 || got.Offset != obj.Size {
		t.Fatalf("import = %s, %d accepted, %d rejected, line %d, byte %d/%d; want SUCCEEDED, 500, 1, line 501, at the end", got.Status, got.Accepted, got.Rejected, got.Line, got.Offset, obj.Size)
	}
	if c.Runs() < 5 || got.Invocations != c.Runs() {
		t.Errorf("%d invocations ran, %d recorded; want at least 5, all recorded", c.Runs(), got.Invocations)
	}
	if !killer.killed {
		t.Error("no batch was killed; the test proves less than it says")
	}
	if n := dynamostoretest.CountItems(t, store, store.OrdersTable, imp.ID); n != len(want) {
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
	imports.Store
	killAt  int
	batches int
	killed  bool
}

func (k *killingStore) WriteOrders(ctx context.Context, orders []imports.Order) error {
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

// TestFileDeletedMidChainFailsAtOnce: the file is deleted between two links. S3 then answers the
// next Range GET 404 NoSuchKey (the function has s3:ListBucket): the import must end FAILED at
// once, not retried three times into the failure queue, with a sentence its owner can read and
// no bucket, request id or SDK text in it; those go to the log.
func TestFileDeletedMidChainFailsAtOnce(t *testing.T) {
	for _, missing := range []error{
		s3test.ClientError(t, false, http.StatusNotFound, "REQ-7F3A", "NoSuchKey"),
		&s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")},
	} {
		t.Run(fmt.Sprintf("%T", missing), func(t *testing.T) {
			store, mem := imports.NewMemStore(), imports.NewMemObjects()
			body, _ := imports.OrdersFile(200)
			obj := mem.Put("imports-bucket-123", "imports/alice/orders.ndjson", []byte(body))
			s3 := &fakeS3{objects: mem}
			c := imports.NewChain(t, store, s3objects.Objects{S3: s3})
			var logs syncBuffer
			c.SetLog(slog.New(slog.NewJSONHandler(&logs, nil)))
			imp := c.Start(store, obj)
			first := c.TakePending()[0]
			if err := c.Invoke(first); err != nil { // hop 0 imports 4 batches and hands over
				t.Fatal(err)
			}
			s3.setErr(missing) // the file is deleted
			c.Drain()

			got := imports.Get(t, store, imp.ID)
			want := fmt.Sprintf("the file was deleted before the import finished; it stopped at byte %d (line 80) of %d", got.Offset, obj.Size)
			if got.Status != imports.StatusFailed || got.Failure != want {
				t.Fatalf("import = %s %q; want FAILED %q", got.Status, got.Failure, want)
			}
			if c.Runs() != 2 || len(c.Broken()) != 0 {
				t.Errorf("%d invocations, %d links to the failure queue; want 2 and none: a missing file is not worth retrying", c.Runs(), len(c.Broken()))
			}
			for _, internal := range []string{"imports-bucket-123", "s3://", "REQ-7F3A", "NoSuchKey", "operation error", "StatusCode"} {
				if strings.Contains(got.Failure, internal) {
					t.Errorf("failure %q shows %q; want internal detail only in the logs", got.Failure, internal)
				}
			}
			if !strings.Contains(logs.String(), "NoSuchKey") {
				t.Errorf("logs = %s; want the S3 error there", logs.String())
			}
		})
	}
}

// fakeS3 serves memObjects' files as the S3 client does, Range and If-Match included, until err
// is set: then every call fails with it.
type fakeS3 struct {
	objects imports.Objects
	mu      sync.Mutex
	err     error
}

func (f *fakeS3) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeS3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return nil, errors.New("HeadObject is not faked")
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var first, last int64
	if _, err := fmt.Sscanf(aws.ToString(in.Range), "bytes=%d-%d", &first, &last); err != nil {
		return nil, fmt.Errorf("range %q: %w", aws.ToString(in.Range), err)
	}
	body, err := f.objects.Open(ctx, aws.ToString(in.Bucket), aws.ToString(in.Key), imports.NormalizeETag(aws.ToString(in.IfMatch)), first, last-first+1)
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{Body: body}, nil
}

// syncBuffer is a log buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
