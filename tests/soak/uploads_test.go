package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// uploadsPattern declares uploads, sends each body to its signed URL (S3's notification then
// reaches the verifier as an asynchronous invoke), one in five a text body with markup that must
// be rejected. It checks that every upload whose body S3 accepted was decided as its content
// calls for, and that the object agrees with the decision: kept and untagged when AVAILABLE, gone
// when REJECTED.
type uploadsPattern struct {
	s                      *stack
	c                      *client
	url, token             string
	table, bucket, failure string

	mu   sync.Mutex
	sent map[string]sentUpload // by upload id
}

// sentUpload is an upload whose body S3 accepted.
type sentUpload struct {
	want string // AVAILABLE or REJECTED
}

func (p *uploadsPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

func (p *uploadsPattern) name() string { return "uploads" }

func (p *uploadsPattern) api() string { return "UploadsApiUrl" }

func (p *uploadsPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c, p.sent = s, c, map[string]sentUpload{}
	p.url = strings.TrimSuffix(s.outputs["UploadsApiUrl"], "/")
	p.table, p.bucket = s.outputs["UploadsTableName"], s.outputs["UploadsBucketName"]
	var err error
	if p.failure, err = s.queueURL(ctx, "VerifyUploadFailureQueue"); err != nil {
		return err
	}
	p.token, err = s.token("soak-uploads")
	return err
}

func (p *uploadsPattern) drive(ctx context.Context, i int) bool {
	if i%2 == 0 {
		return false // one upload a second: each costs three requests and a verification
	}
	body, want := []byte(fmt.Sprintf("soak upload %d\n", i)), "AVAILABLE"
	if i%5 == 4 {
		body, want = []byte(fmt.Sprintf("<script>alert(%d)</script>\n", i)), "REJECTED"
	}
	sum := sha256.Sum256(body)
	decl := fmt.Sprintf(`{"fileName":"soak-%d.txt","contentType":"text/plain","size":%d,"sha256":%q}`, i, len(body), base64.StdEncoding.EncodeToString(sum[:]))
	a := p.c.do(ctx, "POST /uploads", http.MethodPost, p.url+"/uploads", p.token, decl)
	var grant struct {
		UploadID string            `json:"uploadId"`
		Method   string            `json:"method"`
		URL      string            `json:"url"`
		Headers  map[string]string `json:"headers"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &grant) != nil || grant.UploadID == "" {
		return true
	}
	// The signed PUT, retried as a client retries S3's 5xx (SlowDown, InternalError) or a lost answer.
	for try := 1; try <= maxTries; try++ {
		status := p.put(ctx, grant.Method, grant.URL, grant.Headers, body)
		if status == http.StatusOK {
			p.mu.Lock()
			p.sent[grant.UploadID] = sentUpload{want: want}
			p.mu.Unlock()
			return true
		}
		if status != 0 && status < 500 {
			return true
		}
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
	return true
}

// put sends body to a signed URL and returns S3's status, 0 when no answer came.
func (p *uploadsPattern) put(ctx context.Context, method, url string, headers map[string]string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	start := time.Now()
	resp, err := p.c.http.Do(req)
	if err != nil {
		p.c.stats.record("PUT (signed S3 upload)", 0, time.Since(start))
		return 0
	}
	resp.Body.Close()
	p.c.stats.record("PUT (signed S3 upload)", resp.StatusCode, time.Since(start))
	return resp.StatusCode
}

func (p *uploadsPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, u := range p.sent {
		// Decided once: the verifier logs its decision after the write conditional on PENDING
		// succeeded, so two such lines are two decisions (duplicate notifications race for it).
		decisions := len(p.s.logs.Matching("VerifyUploadFunction", `"message":"upload available"`, id)) +
			len(p.s.logs.Matching("VerifyUploadFunction", `"message":"upload rejected"`, id))
		if decisions > 1 {
			out = append(out, fmt.Sprintf("upload %s was decided %d times", id, decisions))
		}
		item, err := p.s.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"uploadId": &types.AttributeValueMemberS{Value: id}},
		})
		if err != nil {
			return []string{fmt.Sprintf("read upload %s: %v", id, err)}
		}
		status, key := stringAttr(item.Item, "status"), stringAttr(item.Item, "objectKey")
		if status != u.want {
			out = append(out, fmt.Sprintf("upload %s is %q; its content calls for %s", id, status, u.want))
			continue
		}
		tags, err := p.s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(p.bucket), Key: aws.String(key)})
		var missing *s3types.NoSuchKey
		exists := err == nil
		if err != nil && !errors.As(err, &missing) && !strings.Contains(err.Error(), "NoSuchKey") {
			return []string{fmt.Sprintf("tags of %s: %v", key, err)}
		}
		switch {
		case status == "AVAILABLE" && !exists:
			out = append(out, fmt.Sprintf("upload %s is AVAILABLE but its object is gone", id))
		case status == "AVAILABLE" && pendingTag(tags):
			out = append(out, fmt.Sprintf("upload %s is AVAILABLE but its object is still tagged upload=pending (its lifecycle rule would expire it)", id))
		case status == "REJECTED" && exists:
			out = append(out, fmt.Sprintf("upload %s is REJECTED but its object is still in the bucket", id))
		}
	}
	if n, err := queueDepth(ctx, p.s, p.failure); err != nil || n > 0 {
		out = append(out, fmt.Sprintf("VerifyUploadFailureQueue holds %d messages (%v); the run poisoned none", n, err))
	}
	return out
}

// pendingTag reports whether an object still carries the upload=pending tag.
func pendingTag(tags *s3.GetObjectTaggingOutput) bool {
	if tags == nil {
		return false
	}
	for _, t := range tags.TagSet {
		if aws.ToString(t.Key) == "upload" && aws.ToString(t.Value) == "pending" {
			return true
		}
	}
	return false
}
