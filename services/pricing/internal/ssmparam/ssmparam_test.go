package ssmparam_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/pricing/internal/ssmparam"
)

// The tests hold the hand-written request and answer to ssm.Client's: both call the same server,
// which checks each request's signature the way SSM does, by signing what it received again.

const region = "eu-west-1"

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")

// received is one request as the server saw it.
type received struct {
	Method, Path, ContentType, Target string
	Body                              map[string]any
	Scope                             string // the Credential's date-less scope: region/service/aws4_request
	SignatureValid                    bool
	SecurityToken                     string
}

// server records every request and answers each with answer (status, headers, body).
type server struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) (int, http.Header, string)
}

func newServer(t *testing.T, answer func(n int) (int, http.Header, string)) *server {
	s := &server{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := received{
			Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Target: r.Header.Get("X-Amz-Target"), SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		}
		_ = json.Unmarshal(raw, &rec.Body)
		rec.Scope, rec.SignatureValid = verify(t, r, raw)
		s.mu.Lock()
		s.got = append(s.got, rec)
		n := len(s.got)
		s.mu.Unlock()
		status, header, body := answer(n)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// verify signs the received request again, from its signed headers, body and date only, and
// compares the signature: what SSM does. It returns the credential scope without the date.
func verify(t *testing.T, r *http.Request, body []byte) (string, bool) {
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
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return scope, false
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signedHeaders, ";") {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	c, _ := creds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, again, hex.EncodeToString(sum[:]), "ssm", region, at); err != nil {
		t.Errorf("sign again: %v", err)
		return scope, false
	}
	return scope, again.Header.Get("Authorization") == auth
}

// config is the SDK configuration both clients get: the server as the endpoint, and a retryer
// that waits nothing between attempts.
func config(endpoint string) aws.Config {
	return aws.Config{
		Region: region, Credentials: creds, BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

func noEnv(string) string { return "" }

const found = `{"Parameter":{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/pricing/sdk-key","DataType":"text","LastModifiedDate":1.7e9,"Name":"/pricing/sdk-key","Type":"SecureString","Value":"sdk-abc\n","Version":3}}`

func TestSendsWhatSSMClientSends(t *testing.T) {
	srv := newServer(t, func(int) (int, http.Header, string) { return 200, nil, found })
	cfg := config(srv.URL)
	if _, err := ssm.NewFromConfig(cfg).GetParameter(context.Background(), &ssm.GetParameterInput{
		Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
	}); err != nil {
		t.Fatalf("ssm.Client: %v", err)
	}
	c, err := ssmparam.New(cfg, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecureString(context.Background(), "/pricing/sdk-key"); err != nil {
		t.Fatalf("ssmparam: %v", err)
	}
	got := srv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests; want one from each client", len(got))
	}
	sdk, ours := got[0], got[1]
	if !sdk.SignatureValid {
		t.Fatalf("the server's check refuses ssm.Client's signature: the check is wrong (%+v)", sdk)
	}
	if !reflect.DeepEqual(ours, sdk) {
		t.Errorf("ssmparam sent\n%+v\nssm.Client sent\n%+v", ours, sdk)
	}
	if sdk.Scope != region+"/ssm/aws4_request" || sdk.SecurityToken != "session-token" {
		t.Errorf("scope %q, token %q: the comparison saw no real request", sdk.Scope, sdk.SecurityToken)
	}
}

func TestReadsWhatSSMAnswersAsSSMClientDoes(t *testing.T) {
	throttled := func(int) (int, http.Header, string) {
		return 400, nil, `{"__type":"ThrottlingException","message":"Rate exceeded"}`
	}
	tests := []struct {
		name         string
		answer       func(n int) (int, http.Header, string)
		want         string
		wantCode     string
		wantAttempts int
	}{
		{name: "found", answer: func(int) (int, http.Header, string) { return 200, nil, found }, want: "sdk-abc\n", wantAttempts: 1},
		{name: "not found, not retried", answer: func(int) (int, http.Header, string) {
			return 400, nil, `{"__type":"ParameterNotFound","message":""}`
		}, wantCode: "ParameterNotFound", wantAttempts: 1},
		{name: "access denied, code in the header", answer: func(int) (int, http.Header, string) {
			return 400, http.Header{"X-Amzn-Errortype": {"AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/"}},
				`{"Message":"User is not authorized to perform: ssm:GetParameter"}`
		}, wantCode: "AccessDeniedException", wantAttempts: 1},
		{name: "namespaced code", answer: func(int) (int, http.Header, string) {
			return 400, nil, `{"__type":"com.amazonaws.ssm#InvalidKeyId","message":"bad key"}`
		}, wantCode: "InvalidKeyId", wantAttempts: 1},
		{name: "throttled, retried to the SDK's limit", answer: throttled, wantCode: "ThrottlingException", wantAttempts: 3},
		{name: "throttled once, then found", answer: func(n int) (int, http.Header, string) {
			if n == 1 {
				return throttled(n)
			}
			return 200, nil, found
		}, want: "sdk-abc\n", wantAttempts: 2},
		{name: "internal error, retried", answer: func(int) (int, http.Header, string) {
			return 500, nil, `{"__type":"InternalServerError","message":"oops"}`
		}, wantCode: "InternalServerError", wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// ssm.Client first, as the reference for value, code and attempts.
			ref := newServer(t, tt.answer)
			out, refErr := ssm.NewFromConfig(config(ref.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{
				Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
			})
			srv := newServer(t, tt.answer)
			c, err := ssmparam.New(config(srv.URL), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetSecureString(context.Background(), "/pricing/sdk-key")

			if tt.wantCode == "" {
				if refErr != nil || aws.ToString(out.Parameter.Value) != tt.want {
					t.Fatalf("ssm.Client: %v: the case does not say what SSM means", refErr)
				}
				if err != nil || got != tt.want {
					t.Errorf("GetSecureString = %q, %v; want %q", got, err, tt.want)
				}
			} else {
				var apiErr smithy.APIError
				if !errors.As(refErr, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("ssm.Client: %v; want code %s: the case does not say what SSM means", refErr, tt.wantCode)
				}
				var ours *ssmparam.Error
				if !errors.As(err, &ours) || ours.Code != tt.wantCode {
					t.Errorf("GetSecureString error %v; want code %s", err, tt.wantCode)
				}
			}
			if n, want := len(srv.requests()), len(ref.requests()); n != want || n != tt.wantAttempts {
				t.Errorf("%d attempts; ssm.Client made %d, want %d", n, want, tt.wantAttempts)
			}
		})
	}
}

func TestTheContextBoundsEveryAttempt(t *testing.T) {
	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); hung.Close() })
	c, err := ssmparam.New(config(hung.URL), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetSecureString(ctx, "/pricing/sdk-key"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetSecureString against a server that never answers: %v; want the context's deadline", err)
	}
}

func TestEndpointIsSSMClients(t *testing.T) {
	resolver := ssm.NewDefaultEndpointResolverV2()
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-7", "mx-central-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"} {
		want, err := resolver.ResolveEndpoint(context.Background(), ssm.EndpointParameters{Region: aws.String(r)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ssmparam.Endpoint(aws.Config{Region: r}, noEnv)
		if err != nil || got != want.URI.String() {
			t.Errorf("Endpoint(%s) = %q, %v; ssm.Client calls %s", r, got, err, want.URI.String())
		}
	}
}

func TestEndpointFromTheEnvironment(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	base := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:4566")}
	tests := []struct {
		name    string
		cfg     aws.Config
		getenv  func(string) string
		want    string
		wantErr bool
	}{
		{name: "service endpoint first", cfg: base, getenv: env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9000"), want: "http://127.0.0.1:9000"},
		{name: "then the base endpoint", cfg: base, getenv: noEnv, want: "http://127.0.0.1:4566"},
		{name: "configured endpoints ignored", cfg: aws.Config{Region: "eu-west-1"}, getenv: env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), want: "https://ssm.eu-west-1.amazonaws.com"},
		{name: "FIPS asked for", cfg: aws.Config{Region: "us-east-1"}, getenv: env("AWS_USE_FIPS_ENDPOINT", "true"), wantErr: true},
		{name: "dual-stack asked for", cfg: aws.Config{Region: "us-east-1"}, getenv: env("AWS_USE_DUALSTACK_ENDPOINT", "true"), wantErr: true},
		{name: "FIPS with the endpoint named", cfg: aws.Config{Region: "us-east-1"}, getenv: env("AWS_USE_FIPS_ENDPOINT", "true", "AWS_ENDPOINT_URL_SSM", "https://ssm-fips.us-east-1.amazonaws.com"), want: "https://ssm-fips.us-east-1.amazonaws.com"},
		{name: "another partition", cfg: aws.Config{Region: "us-iso-east-1"}, getenv: noEnv, wantErr: true},
		{name: "no region", cfg: aws.Config{}, getenv: noEnv, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ssmparam.Endpoint(tt.cfg, tt.getenv)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Endpoint = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
