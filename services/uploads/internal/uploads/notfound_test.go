package uploads_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/services/uploads/internal/uploads/s3objects"
)

// This test runs the verifier on the S3 adapter, package s3objects. It imports package uploads, so
// the test is in package uploads_test, with the test helpers export_test.go lends it.

// missingObjectS3 answers every request as S3 answers one for a key that does not exist, to a
// caller with s3:ListBucket: 404, NoSuchKey in the body (HEAD has no body).
type missingObjectS3 struct{ requests []string }

func (m *missingObjectS3) Do(req *http.Request) (*http.Response, error) {
	m.requests = append(m.requests, req.Method)
	body := ""
	if req.Method != http.MethodHead {
		body = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>REQ1</RequestId></Error>"
	}
	return &http.Response{
		StatusCode: http.StatusNotFound, Status: "404 Not Found", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}, "X-Amz-Request-Id": {"REQ1"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// TestRetriedVerifierFinishesWhenTheObjectIsGone: a verification that deleted a rejected object
// and is then run again (Lambda's retry, a duplicate notification, a second PUT's event) meets S3
// answering 404 for the object. Deleting it again must succeed, so the verification finishes:
// the upload already says REJECTED. And a HEAD or GET of it must be "missing", so an upload the
// crash left PENDING is marked REJECTED by the retry.
func TestRetriedVerifierFinishesWhenTheObjectIsGone(t *testing.T) {
	answers := &missingObjectS3{}
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		HTTPClient:   answers,
		Retryer:      aws.NopRetryer{},
	})
	o := s3objects.Objects{S3: client, Bucket: "uploads-test-bucket"}
	ctx := context.Background()
	key := uploads.ObjectKey("alice", uploads.UploadID, "a.png")
	if err := o.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing object answered 404 = %v; want nil (the object is gone, as asked)", err)
	}
	if _, err := o.Head(ctx, key); !errors.Is(err, uploads.ErrObjectNotFound) {
		t.Errorf("Head answered 404 = %v; want ErrObjectNotFound", err)
	}
	if _, err := o.ReadHead(ctx, key, uploads.SniffBytes); !errors.Is(err, uploads.ErrObjectNotFound) {
		t.Errorf("ReadHead answered 404 = %v; want ErrObjectNotFound", err)
	}

	// The whole verification, retried after the object of a REJECTED upload was deleted.
	u := uploads.PendingUpload(uploads.PNGBytes)
	u.Status, u.Reason = uploads.StatusRejected, "content does not look like image/png"
	v := uploads.Verifier{Store: uploads.NewMemStore(u), Objects: o, Now: uploads.FixedNow, Log: uploads.QuietLog()}
	if outcome, err := v.Verify(ctx, u.Key); err != nil || outcome != uploads.OutcomeDuplicate {
		t.Errorf("retried Verify = %s, %v; want DUPLICATE and no error", outcome, err)
	}
	// And one whose crash came between the delete and the record: it is marked REJECTED.
	pending := uploads.PendingUpload(uploads.PNGBytes)
	store := uploads.NewMemStore(pending)
	v.Store = store
	if outcome, err := v.Verify(ctx, pending.Key); err != nil || outcome != uploads.OutcomeRejected || store.Uploads()[uploads.UploadID].Status != uploads.StatusRejected {
		t.Errorf("retried Verify of a PENDING upload = %s, %v, %s; want REJECTED", outcome, err, store.Uploads()[uploads.UploadID].Status)
	}
	if len(answers.requests) == 0 {
		t.Fatal(fmt.Errorf("no request reached the fake S3"))
	}
}
