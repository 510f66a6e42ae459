package imports

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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
)

// utf8BOM is the UTF-8 byte-order mark some editors (Excel's "CSV UTF-8" among them) write first.
const utf8BOM = "\xef\xbb\xbf"

// TestByteOrderMarkAtTheStartIsNotData: a UTF-8 byte-order mark at byte 0 is skipped and counted
// as done, so a CSV header after it is still the header and the first NDJSON record still parses.
func TestByteOrderMarkAtTheStartIsNotData(t *testing.T) {
	tests := []struct {
		name, key, body string
		wantAccepted    int64
		wantLine        int64
	}{
		{name: "CSV with a header", key: "bom.csv", body: utf8BOM + "id,customer,amount,currency\r\no-1,Ada,1,EUR\r\no-2,Bob,2,EUR\r\n", wantAccepted: 2, wantLine: 3},
		{name: "CSV without a header", key: "bom2.csv", body: utf8BOM + "o-1,Ada,1,EUR\no-2,Bob,2,EUR", wantAccepted: 2, wantLine: 2},
		{name: "NDJSON", key: "bom.ndjson", body: utf8BOM + `{"id":"o-1","customer":"Ada","amount":1,"currency":"EUR"}` + "\n", wantAccepted: 1, wantLine: 1},
		{name: "nothing but the mark", key: "bom3.csv", body: utf8BOM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			obj := objects.put("bucket", "imports/alice/"+tt.key, []byte(tt.body))
			c := newChain(t, store, objects)
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status != StatusSucceeded || got.Accepted != tt.wantAccepted || got.Rejected != 0 || got.Line != tt.wantLine || got.Offset != obj.Size {
				t.Fatalf("import = %s, %d accepted, %d rejected, line %d, byte %d/%d; want SUCCEEDED, %d accepted, none rejected, line %d, at the end",
					got.Status, got.Accepted, got.Rejected, got.Line, got.Offset, obj.Size, tt.wantAccepted, tt.wantLine)
			}
			if o := store.ordersOf(imp.ID)[tt.wantLine]; tt.wantAccepted > 0 && strings.HasPrefix(o.OrderID, "\ufeff") {
				t.Errorf("order %+v keeps the byte-order mark", o)
			}
		})
	}
}

// TestByteOrderMarkElsewhereIsData: only byte 0 may hold the mark. A line that starts with one
// further on is data (and here, a rejected id), also when a link of the chain resumes exactly
// at that line: a resumed offset is never the start of the file.
func TestByteOrderMarkElsewhereIsData(t *testing.T) {
	body := "o-1,Ada,1,EUR\n" + utf8BOM + "o-2,Bob,2,EUR\no-3,Cy,3,EUR\n"
	for _, maxLines := range []int64{0, 1} { // one link, or a link per line (one resumes at the mark)
		t.Run(fmt.Sprintf("max %d lines a link", maxLines), func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			obj := objects.put("bucket", "imports/alice/mid.csv", []byte(body))
			c := newChain(t, store, objects)
			c.proc.BatchLines, c.proc.MaxLines = 1, maxLines
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status != StatusSucceeded || got.Accepted != 2 || got.Rejected != 1 || got.Offset != obj.Size {
				t.Fatalf("import = %s, %d accepted, %d rejected, byte %d/%d; want SUCCEEDED, 2, 1 (line 2), at the end", got.Status, got.Accepted, got.Rejected, got.Offset, obj.Size)
			}
			if _, ok := store.ordersOf(imp.ID)[2]; ok {
				t.Error("line 2 imported; want it rejected: a mark after byte 0 is data")
			}
			if maxLines == 1 && !containsOffset(objects.opens, int64(len("o-1,Ada,1,EUR\n"))) {
				t.Errorf("links opened the file at %v; want one resuming at the mark", objects.opens)
			}
		})
	}
}

func containsOffset(opens []byteRange, want int64) bool {
	for _, o := range opens {
		if o.offset == want {
			return true
		}
	}
	return false
}

// TestObjectErrorMapsMissingAndChangedObjects: S3 says "no such object" as a 404 with NoSuchKey
// (GET) or NotFound (HEAD); a test double or a wrapper may hand over the typed error alone, or
// only its code. Each is ErrObjectNotFound; a failed If-Match is ErrObjectChanged; anything
// else (a 403 without s3:ListBucket, a 500) stays an error worth retrying.
func TestObjectErrorMapsMissingAndChangedObjects(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"GET 404 NoSuchKey from the SDK", s3test.ClientError(t, false, http.StatusNotFound, "REQ1", "NoSuchKey"), ErrObjectNotFound},
		{"HEAD 404 NotFound from the SDK", s3test.ClientError(t, true, http.StatusNotFound, "REQ2", ""), ErrObjectNotFound},
		{"typed NoSuchKey alone", &s3types.NoSuchKey{}, ErrObjectNotFound},
		{"typed NotFound alone", fmt.Errorf("head: %w", &s3types.NotFound{}), ErrObjectNotFound},
		{"API error code NoSuchKey", apiError{code: "NoSuchKey"}, ErrObjectNotFound},
		{"API error code NotFound", apiError{code: "NotFound"}, ErrObjectNotFound},
		{"412 from the SDK", s3test.ClientError(t, false, http.StatusPreconditionFailed, "REQ3", "PreconditionFailed"), ErrObjectChanged},
		{"API error code PreconditionFailed", apiError{code: "PreconditionFailed"}, ErrObjectChanged},
		{"403 without s3:ListBucket", s3test.ClientError(t, false, http.StatusForbidden, "REQ4", "AccessDenied"), nil},
		{"HEAD 403 without s3:ListBucket", s3test.ClientError(t, true, http.StatusForbidden, "REQ4", ""), nil},
		{"500", s3test.ClientError(t, false, http.StatusInternalServerError, "REQ5", "InternalError"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := objectError(tt.err)
			for _, domain := range []error{ErrObjectNotFound, ErrObjectChanged} {
				if errors.Is(got, domain) != (domain == tt.want) {
					t.Errorf("objectError(%v) = %v; want errors.Is %v: %v", tt.err, got, domain, domain == tt.want)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("objectError(%v) = %v; want it to keep the SDK error for the logs", tt.err, got)
			}
		})
	}
}

// TestHeadOfAMissingObjectIsNotFound: POST /imports heads the key first; a missing object must be
// the domain's ErrObjectNotFound, which the handler answers with 422, however the client says it.
func TestHeadOfAMissingObjectIsNotFound(t *testing.T) {
	for _, missing := range []error{&s3types.NotFound{}, s3test.ClientError(t, true, http.StatusNotFound, "REQ6", "")} {
		objects := S3Objects{S3: &fakeS3{err: missing}}
		if _, err := objects.Head(context.Background(), "bucket", "imports/alice/a.csv"); !errors.Is(err, ErrObjectNotFound) {
			t.Errorf("Head with %v = %v; want ErrObjectNotFound", missing, err)
		}
	}
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
			store, mem := newMemStore(), newMemObjects()
			body, _ := ordersFile(200)
			obj := mem.put("imports-bucket-123", "imports/alice/orders.ndjson", []byte(body))
			s3 := &fakeS3{objects: mem}
			c := newChain(t, store, S3Objects{S3: s3})
			var logs syncBuffer
			c.proc.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			imp := c.start(store, obj)
			first := c.pending[0]
			c.pending = nil
			if err := c.invoke(first); err != nil { // hop 0 imports 4 batches and hands over
				t.Fatal(err)
			}
			s3.setErr(missing) // the file is deleted
			c.drain()

			got := get(t, store, imp.ID)
			want := fmt.Sprintf("the file was deleted before the import finished; it stopped at byte %d (line 80) of %d", got.Offset, obj.Size)
			if got.Status != StatusFailed || got.Failure != want {
				t.Fatalf("import = %s %q; want FAILED %q", got.Status, got.Failure, want)
			}
			if c.runs != 2 || len(c.broken) != 0 {
				t.Errorf("%d invocations, %d links to the failure queue; want 2 and none: a missing file is not worth retrying", c.runs, len(c.broken))
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

// TestChainGuardRecordsAPlainSentence: the failure FailImportFunction records comes from Lambda's
// destination record, whose error text is whatever the last attempt returned (SDK errors with
// bucket names and request ids). The caller sees where the chain broke, in words; the cause is
// for the logs.
func TestChainGuardRecordsAPlainSentence(t *testing.T) {
	store := newMemStore()
	imp := Import{ID: "i-1", Owner: "alice", Status: StatusRunning, Bucket: "imports-bucket-123", Key: "imports/alice/a.csv", Size: 1000, Offset: 500, Line: 20, Depth: 3}
	if err := store.Create(context.Background(), imp); err != nil {
		t.Fatal(err)
	}
	cause := "RetriesExhausted after 3 attempts (Runtime.ExitError: get s3://imports-bucket-123/imports/alice/a.csv from byte 500: operation error S3: GetObject, https response error StatusCode: 403, RequestID: REQ-9, api error AccessDenied)"
	failed, err := ChainGuard{Store: store, Now: newFakeClock().Now}.Broken(context.Background(), Link{ImportID: "i-1", Depth: 3}, cause)
	if err != nil || !failed {
		t.Fatalf("Broken = %v, %v; want the import failed", failed, err)
	}
	got := get(t, store, "i-1")
	want := "the import chain broke at byte 500 (line 20) of 1000: it could not continue after every retry"
	if got.Status != StatusFailed || got.Failure != want {
		t.Errorf("import = %s %q; want FAILED %q", got.Status, got.Failure, want)
	}
}

// fakeS3 serves memObjects' files as the S3 client does, Range and If-Match included, until err
// is set: then every call fails with it.
type fakeS3 struct {
	objects *memObjects
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
	body, err := f.objects.Open(ctx, aws.ToString(in.Bucket), aws.ToString(in.Key), NormalizeETag(aws.ToString(in.IfMatch)), first, last-first+1)
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{Body: body}, nil
}

// apiError is an error that carries only an S3 error code, as smithy.APIError does.
type apiError struct{ code string }

func (e apiError) Error() string     { return "api error " + e.code }
func (e apiError) ErrorCode() string { return e.code }

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

// TestOpenOfADeletedObjectIsNotFound: on versitygw (as on S3 for a caller with s3:ListBucket), a
// Range GET with If-Match of a deleted object is a 404 the reader reports as ErrObjectNotFound.
func TestOpenOfADeletedObjectIsNotFound(t *testing.T) {
	ctx := context.Background()
	client, bucket := s3test.Start(t)
	objects := S3Objects{S3: client, Calls: budget.Calls{Timeout: CallTimeout}}
	key := "imports/alice/deleted.csv"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("o-1,Ada,1,EUR\no-2,Bob,2,EUR\n")}); err != nil {
		t.Fatal(err)
	}
	obj, err := objects.Head(ctx, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Open(ctx, bucket, key, obj.ETag, 14, 14); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open of a deleted object = %v; want ErrObjectNotFound", err)
	}
	if _, err := objects.Head(ctx, bucket, key); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Head of a deleted object = %v; want ErrObjectNotFound", err)
	}
}
