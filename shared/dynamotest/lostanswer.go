package dynamotest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// LoseFirstAnswer is an HTTP client that delivers every request but throws away DynamoDB's answer
// to the first request for Target (an X-Amz-Target such as "DynamoDB_20120810.PutItem") and
// returns a 500 instead: the write is applied, its caller does not know, and the SDK retries it,
// as after a connection reset or a timeout on the way back. Tests of conditional writes use it
// to show that a retry recognises its own first attempt.
type LoseFirstAnswer struct {
	// Next sends the requests: the client's own HTTP client.
	Next aws.HTTPClient
	// Target is the X-Amz-Target of the operation whose first answer is lost.
	Target string

	mu             sync.Mutex
	lost, requests int
}

// Do sends req and, for the first request for Target, answers 500 whatever DynamoDB answered.
func (c *LoseFirstAnswer) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.Next.Do(req)
	if err != nil || req.Header.Get("X-Amz-Target") != c.Target {
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

// Counts returns how many answers to Target were lost and how many requests for it were sent.
func (c *LoseFirstAnswer) Counts() (lost, requests int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost, c.requests
}

// LosingFirstAnswer returns a copy of client that loses its first answer to target
// (LoseFirstAnswer), with the SDK's standard retryer minus its back-off wait: the tests that use
// it are about what is retried, not when.
func LosingFirstAnswer(client *dynamodb.Client, target string) (*dynamodb.Client, *LoseFirstAnswer) {
	lossy := &LoseFirstAnswer{Target: target}
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		lossy.Next = o.HTTPClient
		o.HTTPClient = lossy
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}), lossy
}
