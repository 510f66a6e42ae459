package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Each import file: a header and importLines lines, every importRejectEvery-th without a currency
// (rejected). With ImportMaxLinesPerInvocation at 1000 locally, each import is a chain of two
// links, handed over by an asynchronous invoke.
const (
	importLines       = 1100
	importRejectEvery = 100
)

// importsPattern uploads a file to its signed URL every ten seconds and starts its import (S3's
// notification starts it too: the same import). It checks that every import ended SUCCEEDED with
// its counts equal to the file's lines, and that the orders and rejects tables hold exactly one
// item per accepted and rejected line.
type importsPattern struct {
	s                        *stack
	c                        *client
	url, token, bucket       string
	imports, orders, rejects string
	failure, deadLetter      string

	mu      sync.Mutex
	started []string // import ids
}

func (p *importsPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.started)
}

func (p *importsPattern) name() string { return "imports" }

func (p *importsPattern) api() string { return "ImportsApiUrl" }

func (p *importsPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c = s, c
	p.url = strings.TrimSuffix(s.outputs["ImportsApiUrl"], "/")
	p.bucket, p.imports, p.orders = s.outputs["ImportsBucketName"], s.outputs["ImportsTableName"], s.outputs["ImportedOrdersTableName"]
	var err error
	if p.rejects, err = s.tableName(ctx, "ImportRejectsTable"); err != nil {
		return err
	}
	if p.failure, err = s.queueURL(ctx, "ImportsFailureQueue"); err != nil {
		return err
	}
	if p.deadLetter, err = s.queueURL(ctx, "ImportsFailureDeadLetterQueue"); err != nil {
		return err
	}
	p.token, err = s.token("soak-imports")
	return err
}

// importFile is the CSV the soak's i-th import reads.
func importFile(i int) []byte {
	var b bytes.Buffer
	b.WriteString("id,customer,amount,currency\n")
	for line := 1; line <= importLines; line++ {
		currency := "EUR"
		if line%importRejectEvery == 0 {
			currency = ""
		}
		fmt.Fprintf(&b, "soak-%d-%d,customer-%d,%d,%s\n", i, line, line%17, 100+line, currency)
	}
	return b.Bytes()
}

func (p *importsPattern) drive(ctx context.Context, i int) bool {
	if i%20 != 0 {
		return false
	}
	body := importFile(i)
	a := p.c.do(ctx, "POST /imports/uploads", http.MethodPost, p.url+"/imports/uploads", p.token,
		fmt.Sprintf(`{"fileName":"soak-%d.csv","size":%d}`, i, len(body)))
	var grant struct {
		Key     string            `json:"key"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &grant) != nil || grant.Key == "" {
		return true
	}
	etag := ""
	for try := 1; try <= maxTries && etag == ""; try++ {
		etag = p.put(ctx, grant.Method, grant.URL, grant.Headers, body)
		if etag == "" {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
	}
	if etag == "" {
		return true
	}
	// The import id is derived from the file's version: the notification and this POST start the same one.
	sum := sha256.Sum256([]byte(p.bucket + "\n" + grant.Key + "\n" + etag))
	p.mu.Lock()
	p.started = append(p.started, hex.EncodeToString(sum[:16]))
	p.mu.Unlock()
	p.c.do(ctx, "POST /imports", http.MethodPost, p.url+"/imports", p.token, fmt.Sprintf(`{"key":%q}`, grant.Key))
	return true
}

// put sends body to a signed URL and returns the stored object's ETag, "" when S3 did not store it.
func (p *importsPattern) put(ctx context.Context, method, url string, headers map[string]string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return ""
	}
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	start := time.Now()
	resp, err := p.c.http.Do(req)
	if err != nil {
		p.c.stats.record("PUT (signed S3 upload)", 0, time.Since(start))
		return ""
	}
	resp.Body.Close()
	p.c.stats.record("PUT (signed S3 upload)", resp.StatusCode, time.Since(start))
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.Trim(resp.Header.Get("ETag"), `"`)
}

func (p *importsPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	wantRejected := int64(importLines / importRejectEvery)
	wantAccepted := int64(importLines) - wantRejected
	var out []string
	for _, id := range p.started {
		item, err := p.s.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(p.imports), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"importId": &types.AttributeValueMemberS{Value: id}},
		})
		if err != nil {
			return []string{fmt.Sprintf("read import %s: %v", id, err)}
		}
		status, accepted, rejected := stringAttr(item.Item, "status"), numberAttr(item.Item, "accepted"), numberAttr(item.Item, "rejected")
		if status != "SUCCEEDED" || accepted != wantAccepted || rejected != wantRejected {
			out = append(out, fmt.Sprintf("import %s is %q with %d accepted and %d rejected; want SUCCEEDED with %d and %d", id, status, accepted, rejected, wantAccepted, wantRejected))
			continue
		}
		for _, t := range []struct {
			table string
			want  int64
		}{{p.orders, wantAccepted}, {p.rejects, wantRejected}} {
			n, err := countItems(ctx, p.s, t.table, "importId", id)
			if err != nil {
				return []string{err.Error()}
			}
			if n != t.want {
				out = append(out, fmt.Sprintf("import %s: %s holds %d items; want %d, one per line", id, t.table, n, t.want))
			}
		}
	}
	for name, q := range map[string]string{"ImportsFailureQueue": p.failure, "ImportsFailureDeadLetterQueue": p.deadLetter} {
		if n, err := queueDepth(ctx, p.s, q); err != nil || n > 0 {
			out = append(out, fmt.Sprintf("%s holds %d messages (%v); the run poisoned none", name, n, err))
		}
	}
	return out
}

// countItems counts the items of a table under one partition key, strongly consistent.
func countItems(ctx context.Context, s *stack, table, keyName, key string) (int64, error) {
	var n int64
	pages := dynamodb.NewQueryPaginator(s.dynamodb, &dynamodb.QueryInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": keyName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: key}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("count %s in %s: %w", key, table, err)
		}
		n += int64(page.Count)
	}
	return n, nil
}
