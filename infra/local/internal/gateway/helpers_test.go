package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	// functionKey and functionSecret are the keys of the one function the tests know.
	functionKey    = "ASIASUBMITJOBFUNCTION"
	functionSecret = "function-secret"
	functionName   = "SubmitJobFunction"
	functionARN    = "arn:aws:sts::000000000000:assumed-role/app-SubmitJobFunctionRole/app-SubmitJobFunction"
	// trustedKey is the runner's own key.
	trustedKey = "LOCALRUNNER"
	// queueURL is a queue URL as fauxqs returns it.
	queueURL = "http://sqs.us-east-1.localhost:4566/000000000000/jobs"
	queueARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
)

// testQueueARN maps the one known queue URL, as the runner maps the provisioned queues.
func testQueueARN(u string) (string, bool) {
	if u == queueURL {
		return queueARN, true
	}
	return "", false
}

// recorded is one request as a server received it.
type recorded struct {
	method, requestURI, host string
	url                      *url.URL
	header                   http.Header
	body                     []byte
}

// request rebuilds the server-side request, body included, for Classify.
func (r recorded) request() *http.Request {
	u := *r.url
	req := &http.Request{
		Method: r.method, URL: &u, Host: r.host, RequestURI: r.requestURI,
		Header: r.header.Clone(), Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body)),
	}
	return req.WithContext(context.Background())
}

// recorderLog keeps every request a handler sees.
type recorderLog struct {
	mu       sync.Mutex
	requests []recorded
}

// record reads r (body included, then restores it) and keeps a copy.
func (l *recorderLog) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	u := *r.URL
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, recorded{
		method: r.Method, requestURI: r.RequestURI, host: r.Host, url: &u, header: r.Header.Clone(), body: body,
	})
}

// all returns the requests recorded so far.
func (l *recorderLog) all() []recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]recorded(nil), l.requests...)
}

// serve starts a server that records each request and answers it with answer.
func serve(t *testing.T, answer http.HandlerFunc) (*httptest.Server, *recorderLog) {
	t.Helper()
	log := &recorderLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, log
}

// refuseAll answers every request with a 400 that no SDK retries, so that a test can capture the
// exact request an SDK call sends.
func refuseAll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, "<Error><Code>Recorded</Code><Message>recorded</Message></Error>")
}

// clients are SDK clients pointed at one endpoint, signing with one key.
type clients struct {
	dynamodb *dynamodb.Client
	streams  *dynamodbstreams.Client
	sqs      *sqs.Client
	sns      *sns.Client
	s3       *s3.Client
	lambda   *lambda.Client
}

// newClients builds clients for endpoint that sign with key (anonymous when key is "").
func newClients(endpoint, key, secret string) clients {
	cfg := aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	if key == "" {
		cfg.Credentials = aws.AnonymousCredentials{}
	}
	return clients{
		dynamodb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }),
		streams:  dynamodbstreams.NewFromConfig(cfg),
		sqs:      sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.DisableMessageChecksumValidation = true }),
		sns:      sns.NewFromConfig(cfg),
		s3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		lambda:   lambda.NewFromConfig(cfg),
	}
}

// capture returns the one request call sends through the SDK clients.
func capture(t *testing.T, call func(ctx context.Context, c clients) error) recorded {
	t.Helper()
	srv, log := serve(t, refuseAll)
	_ = call(context.Background(), newClients(srv.URL, functionKey, functionSecret))
	got := log.all()
	if len(got) != 1 {
		t.Fatalf("SDK sent %d requests, want 1", len(got))
	}
	return got[0]
}

// summary renders accesses as "action resource" lines, for readable table tests.
func summary(accesses []Access) []string {
	out := make([]string, 0, len(accesses))
	for _, a := range accesses {
		out = append(out, a.Action+" "+a.Resource)
	}
	return out
}

// policy is a test authorizer: allow lists "action resource" pairs (a trailing * in the resource
// matches any suffix), deny likewise, and a deny wins.
type policy struct {
	allow, deny []string
	mu          sync.Mutex
	asked       []Access
}

func (p *policy) authorize(a Access) (bool, bool) {
	p.mu.Lock()
	p.asked = append(p.asked, a)
	p.mu.Unlock()
	match := func(patterns []string) bool {
		for _, pattern := range patterns {
			action, resource, _ := strings.Cut(pattern, " ")
			if action != a.Action {
				continue
			}
			if prefix, wildcard := strings.CutSuffix(resource, "*"); wildcard && strings.HasPrefix(a.Resource, prefix) || resource == a.Resource {
				return true
			}
		}
		return false
	}
	if match(p.deny) {
		return false, true
	}
	return match(p.allow), false
}

// questions returns every access asked so far.
func (p *policy) questions() []Access {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Access(nil), p.asked...)
}

// syncBuffer is a log destination safe for concurrent writes.
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

// headerNames returns a header's names, sorted, for messages.
func headerNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
