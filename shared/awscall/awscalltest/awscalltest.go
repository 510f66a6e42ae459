// Package awscalltest holds a caller of awscall to the SDK client it replaces: a server both
// clients call, which records each request, checks its signature the way AWS does (by signing what
// it received again), and answers as the test says; the configuration both get; and the SDK
// configuration as a cold start loads it from the environment, to compare endpoints.
package awscalltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/go-serverless/reference/shared/awscall"
)

// Credentials sign every request of the tests, with a session token as Lambda's have.
var Credentials = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")

// Trace is what aws-lambda-go sets _X_AMZN_TRACE_ID to in an invocation; its "|" is one of the
// characters the SDK percent-encodes in the X-Amzn-Trace-Id header.
const Trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5"

// InsideLambda sets the environment of a function's invocation for the rest of the test: clients
// then pass the invocation's trace on.
func InsideLambda(t *testing.T, function string) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", function)
	t.Setenv("_X_AMZN_TRACE_ID", Trace)
}

// Request is one request as the server received it.
type Request struct {
	Method string
	// Path is the escaped path as sent: "f:live" and "f%3Alive" route alike but are signed
	// differently.
	Path, Query string
	Header      http.Header
	Body        []byte
	// Scope is the signature's credential scope without the date: region/service/aws4_request.
	Scope          string
	SignedHeaders  []string
	SignatureValid bool
	// At is when the server received it.
	At time.Time
}

// DropConnection, as an answer's status, closes the connection instead of answering.
const DropConnection = -1

// Answer says what the server answers to the nth request (from 1): status, headers, body.
type Answer func(n int) (status int, header http.Header, body string)

// Server records every request and answers each with its Answer.
type Server struct {
	*httptest.Server
	mu  sync.Mutex
	got []Request
}

// NewServer starts a server for the service signingName in region; answers carry contentType
// unless the answer's headers name another. It stops at the end of the test.
func NewServer(t *testing.T, region, signingName, contentType string, answer Answer) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: raw, At: time.Now()}
		rec.Scope, rec.SignedHeaders, rec.SignatureValid = verify(t, r, raw, signingName, region)
		s.mu.Lock()
		s.got = append(s.got, rec)
		n := len(s.got)
		s.mu.Unlock()
		status, header, body := answer(n)
		if status == DropConnection {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", contentType)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns what the server received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.got...)
}

// verify signs the received request again, from its signed headers, path as sent, body and date
// only, and compares the signature: what AWS does. It returns the credential scope without the
// date and the signed headers.
func verify(t *testing.T, r *http.Request, body []byte, signingName, region string) (string, []string, bool) {
	auth := r.Header.Get("Authorization")
	var credential, signedHeaders string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		}
	}
	_, scope, _ := strings.Cut(credential, "/") // AKID/date/region/service/aws4_request
	_, scope, _ = strings.Cut(scope, "/")
	signed := strings.Split(signedHeaders, ";")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return scope, signed, false
	}
	// RequestURI keeps the path as sent (RawPath): the signer signs the escaped form.
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	c, _ := Credentials.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, again, hex.EncodeToString(sum[:]), signingName, region, at); err != nil {
		t.Errorf("sign again: %v", err)
		return scope, signed, false
	}
	return scope, signed, again.Header.Get("Authorization") == auth
}

// Config is the SDK configuration both clients get: endpoint as the endpoint, Credentials, and a
// retryer that waits nothing between attempts.
func Config(region, endpoint string) aws.Config {
	return aws.Config{
		Region: region, Credentials: Credentials, BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

// EndpointSettings are configuration sources that turn FIPS and dual-stack endpoints on or off,
// as AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT do.
func EndpointSettings(fips, dualStack bool) []any {
	f, d := aws.FIPSEndpointStateDisabled, aws.DualStackEndpointStateDisabled
	if fips {
		f = aws.FIPSEndpointStateEnabled
	}
	if dualStack {
		d = aws.DualStackEndpointStateEnabled
	}
	return []any{config.EnvConfig{UseFIPSEndpoint: f, UseDualStackEndpoint: d}}
}

// Regions are region names of every shape in the aws, aws-cn and aws-us-gov partitions.
var Regions = []string{
	"us-east-1", "eu-west-1", "ap-southeast-2", "ap-southeast-7", "mx-central-1", "il-central-1",
	"cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1",
}

// CompareRegionalEndpoints compares awscall.Endpoint for s with resolve, the SDK client's own
// endpoint resolver, in every region of Regions with FIPS and dual-stack on and off.
func CompareRegionalEndpoints(t *testing.T, s awscall.Service, resolve func(region string, fips, dualStack bool) (string, error)) {
	for _, region := range Regions {
		for _, fips := range []bool{false, true} {
			for _, dualStack := range []bool{false, true} {
				want, err := resolve(region, fips, dualStack)
				if err != nil {
					t.Fatalf("the SDK's resolver, %s, FIPS %v, dual-stack %v: %v", region, fips, dualStack, err)
				}
				cfg := aws.Config{Region: region, ConfigSources: EndpointSettings(fips, dualStack)}
				if got, err := awscall.Endpoint(cfg, s); err != nil || got != want {
					t.Errorf("Endpoint(%s, FIPS %v, dual-stack %v) = %q, %v; the SDK's client calls %s", region, fips, dualStack, got, err, want)
				}
			}
		}
	}
}

// ConfigFromEnv loads the SDK configuration as a function's cold start does, from an environment
// holding env and no other AWS_ variable (no shared config files; static credentials), and outside
// Lambda (no _X_AMZN_TRACE_ID either).
func ConfigFromEnv(t *testing.T, env map[string]string) aws.Config {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") || k == "_X_AMZN_TRACE_ID" {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
	} {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Capture is an HTTP client that records where a request was going and sends nothing.
type Capture struct{ URL string }

// Do records the request's scheme and host.
func (c *Capture) Do(r *http.Request) (*http.Response, error) {
	c.URL = r.URL.Scheme + "://" + r.URL.Host
	return nil, errors.New("captured")
}

// Deps returns, for every main package under dir's ./cmd/..., the packages it links.
func Deps(t *testing.T, dir string) map[string][]string {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./cmd/...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/... in %s: %v", dir, err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		if fields := strings.Fields(line); len(fields) > 0 {
			deps[fields[0]] = fields[1:]
		}
	}
	if len(deps) == 0 {
		t.Fatalf("go list found no main package in %s", dir)
	}
	return deps
}
