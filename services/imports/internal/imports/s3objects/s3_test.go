package s3objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// TestSignedUploadStoresOnlyTheDeclaredFile PUTs to URLs Uploads signed, on versitygw: S3 must
// refuse a body of another length or Content-Type than the signed ones and store nothing, and
// accept the declared file sent with the headers the signature names.
func TestSignedUploadStoresOnlyTheDeclaredFile(t *testing.T) {
	client, bucket := s3test.Start(t)
	u := Uploads{Presign: s3.NewPresignClient(client), Bucket: bucket, Expires: time.Minute, Now: time.Now}
	const declared = "id,customer,amount,currency\no-1,Zoë,700,EUR\n"
	tests := []struct {
		name, body, contentType string
		wantStatus              int
	}{
		{name: "declared file", body: declared, contentType: "text/csv", wantStatus: http.StatusOK},
		{name: "longer", body: declared + "o-2,Bob,100,EUR\n", contentType: "text/csv", wantStatus: http.StatusForbidden},
		{name: "shorter", body: declared[:len(declared)-1], contentType: "text/csv", wantStatus: http.StatusForbidden},
		{name: "other content type", body: declared, contentType: "application/octet-stream", wantStatus: http.StatusForbidden},
		{name: "no content type", body: declared, wantStatus: http.StatusForbidden},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := "imports/alice/orders-" + string(rune('a'+i)) + ".csv"
			signed, err := u.Sign(ctx, key, int64(len(declared)), "text/csv")
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, signed.Method, signed.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for name, values := range signed.Header {
				if name != "Host" && name != "Content-Length" && !strings.EqualFold(name, "Content-Type") && len(values) > 0 {
					req.Header.Set(name, values[0])
				}
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("PUT: %v", err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("PUT = %d %s; want %d", resp.StatusCode, answer, tt.wantStatus)
			}
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if tt.wantStatus != http.StatusOK {
				if !errors.Is(objectError(err), imports.ErrObjectNotFound) {
					t.Errorf("HeadObject after a refused PUT = %+v, %v; want no object stored", head, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got := aws.ToInt64(head.ContentLength); got != int64(len(declared)) || aws.ToString(head.ContentType) != "text/csv" {
				t.Errorf("stored %d bytes of %s; want %d of text/csv", got, aws.ToString(head.ContentType), len(declared))
			}
		})
	}
	signed, err := u.Sign(context.Background(), "imports/alice/orders.csv", 10, "text/csv")
	if err != nil {
		t.Fatal(err)
	}
	if signed.Header.Get("Content-Length") != "10" || signed.Header.Get("Content-Type") != "text/csv" {
		t.Errorf("signed headers %v; want Content-Length 10 and Content-Type text/csv among them", signed.Header)
	}
}

func TestObjectsRangeAndETag(t *testing.T) {
	ctx := context.Background()
	client, bucket := s3test.Start(t)
	objects := Objects{S3: client, Calls: budget.Calls{Timeout: imports.CallTimeout}}
	body := "o-1,Zoë,1,EUR\no-2,日本,2,JPY\n"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("imports/alice/a.csv"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	obj, err := objects.Head(ctx, bucket, "imports/alice/a.csv")
	if err != nil || obj.Size != int64(len(body)) || obj.ETag == "" || strings.Contains(obj.ETag, `"`) {
		t.Fatalf("Head = %+v, %v; want the size and an unquoted ETag", obj, err)
	}
	if _, err := objects.Head(ctx, bucket, "imports/alice/none.csv"); !errors.Is(err, imports.ErrObjectNotFound) {
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
	if _, err := objects.Open(ctx, bucket, obj.Key, obj.ETag, 0, obj.Size); !errors.Is(err, imports.ErrObjectChanged) {
		t.Errorf("Open of a replaced object = %v; want ErrObjectChanged", err)
	}
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
		{"GET 404 NoSuchKey from the SDK", s3test.ClientError(t, false, http.StatusNotFound, "REQ1", "NoSuchKey"), imports.ErrObjectNotFound},
		{"HEAD 404 NotFound from the SDK", s3test.ClientError(t, true, http.StatusNotFound, "REQ2", ""), imports.ErrObjectNotFound},
		{"typed NoSuchKey alone", &s3types.NoSuchKey{}, imports.ErrObjectNotFound},
		{"typed NotFound alone", fmt.Errorf("head: %w", &s3types.NotFound{}), imports.ErrObjectNotFound},
		{"API error code NoSuchKey", apiError{code: "NoSuchKey"}, imports.ErrObjectNotFound},
		{"API error code NotFound", apiError{code: "NotFound"}, imports.ErrObjectNotFound},
		{"412 from the SDK", s3test.ClientError(t, false, http.StatusPreconditionFailed, "REQ3", "PreconditionFailed"), imports.ErrObjectChanged},
		{"API error code PreconditionFailed", apiError{code: "PreconditionFailed"}, imports.ErrObjectChanged},
		{"403 without s3:ListBucket", s3test.ClientError(t, false, http.StatusForbidden, "REQ4", "AccessDenied"), nil},
		{"HEAD 403 without s3:ListBucket", s3test.ClientError(t, true, http.StatusForbidden, "REQ4", ""), nil},
		{"500", s3test.ClientError(t, false, http.StatusInternalServerError, "REQ5", "InternalError"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := objectError(tt.err)
			for _, domain := range []error{imports.ErrObjectNotFound, imports.ErrObjectChanged} {
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
		objects := Objects{S3: failingS3{err: missing}}
		if _, err := objects.Head(context.Background(), "bucket", "imports/alice/a.csv"); !errors.Is(err, imports.ErrObjectNotFound) {
			t.Errorf("Head with %v = %v; want ErrObjectNotFound", missing, err)
		}
	}
}

// failingS3 answers every call with err.
type failingS3 struct{ err error }

func (f failingS3) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, f.err
}

func (f failingS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, f.err
}

// apiError is an error that carries only an S3 error code, as smithy.APIError does.
type apiError struct{ code string }

func (e apiError) Error() string     { return "api error " + e.code }
func (e apiError) ErrorCode() string { return e.code }

// TestOpenOfADeletedObjectIsNotFound: on versitygw (as on S3 for a caller with s3:ListBucket), a
// Range GET with If-Match of a deleted object is a 404 the reader reports as ErrObjectNotFound.
func TestOpenOfADeletedObjectIsNotFound(t *testing.T) {
	ctx := context.Background()
	client, bucket := s3test.Start(t)
	objects := Objects{S3: client, Calls: budget.Calls{Timeout: imports.CallTimeout}}
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
	if _, err := objects.Open(ctx, bucket, key, obj.ETag, 14, 14); !errors.Is(err, imports.ErrObjectNotFound) {
		t.Errorf("Open of a deleted object = %v; want ErrObjectNotFound", err)
	}
	if _, err := objects.Head(ctx, bucket, key); !errors.Is(err, imports.ErrObjectNotFound) {
		t.Errorf("Head of a deleted object = %v; want ErrObjectNotFound", err)
	}
}
