package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore/dynamostoretest"
)

// loseFirstAnswer is an HTTP client that delivers every request but throws away DynamoDB's
// answer to the first request for target ("DynamoDB_20120810.UpdateItem") and returns a 500
// instead: the write is applied, its caller does not know, and the SDK retries it, as after a
// connection reset or a timeout on the way back.
type loseFirstAnswer struct {
	next   aws.HTTPClient
	target string

	mu             sync.Mutex
	lost, requests int
}

func (c *loseFirstAnswer) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil || req.Header.Get("X-Amz-Target") != c.target {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if c.lost > 0 {
		return resp, nil
	}
	c.lost++
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost on the way back"}`
	return &http.Response{
		StatusCode: http.StatusInternalServerError, Status: "500 Internal Server Error",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(bytes.NewBufferString(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// TestCheckpointWhoseAnswerWasLostIsOurs moves a checkpoint on DynamoDB Local while the answer to
// the write is lost and the SDK retries it: the retry finds the checkpoint moved by the write
// itself, which is success, not another invocation's progress (that would stop the chain with
// no one to carry it on). A second invocation from the same offset still loses.
func TestCheckpointWhoseAnswerWasLostIsOurs(t *testing.T) {
	for _, done := range []bool{false, true} {
		t.Run(map[bool]string{false: "mid-file", true: "last batch"}[done], func(t *testing.T) {
			ctx := context.Background()
			s := dynamostoretest.New(t)
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			imp := imports.Import{ID: "i-1", Owner: "alice", Bucket: "b", Key: "imports/alice/a.csv", ETag: "e", Size: 100, Format: imports.FormatCSV, Status: imports.StatusRunning, CreatedAt: now, UpdatedAt: now}
			if err := s.Create(ctx, imp); err != nil {
				t.Fatal(err)
			}
			lossy := &loseFirstAnswer{target: "DynamoDB_20120810.UpdateItem"}
			db := s.DB.(*dynamodb.Client)
			s.DB = dynamodb.New(db.Options(), func(o *dynamodb.Options) {
				lossy.next = o.HTTPClient
				o.HTTPClient = lossy
				// The SDK's standard retryer, without its wait: the test is about what is retried.
				o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
					so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				})
			})
			cp := imports.Checkpoint{Offset: 100, Line: 7, Accepted: 6, Rejected: 1, Done: done, Now: now}
			if err := s.Checkpoint(ctx, "i-1", 0, cp); err != nil {
				t.Fatalf("Checkpoint whose answer was lost = %v; want success", err)
			}
			if lossy.lost != 1 || lossy.requests != 2 {
				t.Fatalf("answers lost %d of %d writes; want 1 of 2: the write was not retried once", lossy.lost, lossy.requests)
			}
			got, err := s.Get(ctx, "i-1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Offset != 100 || got.Accepted != 6 || got.Rejected != 1 || (got.Status == imports.StatusSucceeded) != done {
				t.Errorf("import = %+v; want byte 100 with 6 accepted and 1 rejected, counted once", got)
			}
			if err := s.Checkpoint(ctx, "i-1", 0, cp); !errors.Is(err, imports.ErrConflict) {
				t.Errorf("another invocation's checkpoint from the same offset = %v; want ErrConflict", err)
			}
		})
	}
}
