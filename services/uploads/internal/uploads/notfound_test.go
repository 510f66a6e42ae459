package uploads

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
)

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
	o := S3Objects{S3: client, Bucket: testBucket}
	ctx := context.Background()
	key := ObjectKey("alice", uploadID, "a.png")
	if err := o.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing object answered 404 = %v; want nil (the object is gone, as asked)", err)
	}
	if _, err := o.Head(ctx, key); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Head answered 404 = %v; want ErrObjectNotFound", err)
	}
	if _, err := o.ReadHead(ctx, key, SniffBytes); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("ReadHead answered 404 = %v; want ErrObjectNotFound", err)
	}

	// The whole verification, retried after the object of a REJECTED upload was deleted.
	u := pendingUpload(pngBytes)
	u.Status, u.Reason = StatusRejected, "content does not look like image/png"
	v := Verifier{Store: newMemStore(u), Objects: o, Now: fixedNow, Log: quietLog()}
	if outcome, err := v.Verify(ctx, u.Key); err != nil || outcome != OutcomeDuplicate {
		t.Errorf("retried Verify = %s, %v; want DUPLICATE and no error", outcome, err)
	}
	// And one whose crash came between the delete and the record: it is marked REJECTED.
	pending := pendingUpload(pngBytes)
	store := newMemStore(pending)
	v.Store = store
	if outcome, err := v.Verify(ctx, pending.Key); err != nil || outcome != OutcomeRejected || store.uploads[uploadID].Status != StatusRejected {
		t.Errorf("retried Verify of a PENDING upload = %s, %v, %s; want REJECTED", outcome, err, store.uploads[uploadID].Status)
	}
	if len(answers.requests) == 0 {
		t.Fatal(fmt.Errorf("no request reached the fake S3"))
	}
}
