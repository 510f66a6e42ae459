package ssmparam_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/pricing/internal/ssmparam"
	"github.com/go-serverless/reference/shared/awscall"
)

// The tests hold the hand-written request and answer to ssm.Client's: both call the same server,
// which checks each request's signature the way SSM does, by signing what it received again.

const region = "eu-west-1"

// mustSign are the headers a GetParameter request must sign: what SSM routes and reads by.
var mustSign = []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"}

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")

// received is one request as the server saw it.
type received struct {
	Method, Path, ContentType, Target string
	Body                              map[string]any
	Scope                             string // the Credential's date-less scope: region/service/aws4_request
	SignatureValid                    bool
	SecurityToken                     string
	Trace                             string // X-Amzn-Trace-Id: the invocation's trace, passed on
	// SignedHeaders differ between the clients (the SDK signs its own headers too): compared apart.
	SignedHeaders []string
}

// server records every request and answers each with answer (status, headers, body); a status
// of dropConnection closes the connection instead of answering.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) (int, http.Header, string)
}

const dropConnection = -1

func newServer(t *testing.T, region string, answer func(n int) (int, http.Header, string)) *server {
	s := &server{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := received{
			Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Target: r.Header.Get("X-Amz-Target"), SecurityToken: r.Header.Get("X-Amz-Security-Token"),
			Trace: r.Header.Get("X-Amzn-Trace-Id"),
		}
		_ = json.Unmarshal(raw, &rec.Body)
		rec.Scope, rec.SignedHeaders, rec.SignatureValid = verify(t, r, raw, region)
		s.mu.Lock()
		s.got = append(s.got, rec)
		n := len(s.got)
		s.mu.Unlock()
		status, header, body := answer(n)
		if status == dropConnection {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
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

func withoutSignedHeaders(r received) received {
	r.SignedHeaders = nil
	return r
}

// verify signs the received request again, from its signed headers, body and date only, and
// compares the signature: what SSM does. It returns the credential scope without the date and
// the signed headers.
func verify(t *testing.T, r *http.Request, body []byte, region string) (string, []string, bool) {
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
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	c, _ := creds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, again, hex.EncodeToString(sum[:]), "ssm", region, at); err != nil {
		t.Errorf("sign again: %v", err)
		return scope, signed, false
	}
	return scope, signed, again.Header.Get("Authorization") == auth
}

// config is the SDK configuration both clients get: the server as the endpoint, and a retryer
// that waits nothing between attempts.
func sdkConfig(region, endpoint string) aws.Config {
	return aws.Config{
		Region: region, Credentials: creds, BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

const found = `{"Parameter":{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/pricing/sdk-key","DataType":"text","LastModifiedDate":1.7e9,"Name":"/pricing/sdk-key","Type":"SecureString","Value":"sdk-abc\n","Version":3}}`

// lambdaTrace is what aws-lambda-go sets _X_AMZN_TRACE_ID to in an invocation; its "|" is one of
// the characters the SDK percent-encodes in the header.
const lambdaTrace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5"

func TestSendsWhatSSMClientSends(t *testing.T) {
	// Inside Lambda, as the functions run: both clients pass the invocation's trace on.
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "GetPriceFunction")
	t.Setenv("_X_AMZN_TRACE_ID", lambdaTrace)
	for _, region := range []string{"eu-west-1", "cn-north-1"} {
		t.Run(region, func(t *testing.T) {
			srv := newServer(t, region, func(int) (int, http.Header, string) { return 200, nil, found })
			cfg := sdkConfig(region, srv.URL)
			if _, err := ssm.NewFromConfig(cfg).GetParameter(context.Background(), &ssm.GetParameterInput{
				Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
			}); err != nil {
				t.Fatalf("ssm.Client: %v", err)
			}
			if _, err := ssmparam.New(cfg).GetSecureString(context.Background(), "/pricing/sdk-key"); err != nil {
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
			if a, b := withoutSignedHeaders(ours), withoutSignedHeaders(sdk); !reflect.DeepEqual(a, b) {
				t.Errorf("ssmparam sent\n%+v\nssm.Client sent\n%+v", ours, sdk)
			}
			for _, h := range mustSign {
				if !slices.Contains(sdk.SignedHeaders, h) {
					t.Errorf("ssm.Client does not sign %s (%v): the list is wrong", h, sdk.SignedHeaders)
				}
				if !slices.Contains(ours.SignedHeaders, h) {
					t.Errorf("ssmparam does not sign %s (signed: %v)", h, ours.SignedHeaders)
				}
			}
			if sdk.Scope != region+"/ssm/aws4_request" || sdk.SecurityToken != "session-token" || !strings.Contains(sdk.Trace, "Root=1-5759e988") {
				t.Errorf("scope %q, token %q, trace %q: the comparison saw no real request", sdk.Scope, sdk.SecurityToken, sdk.Trace)
			}
		})
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
		wantDropped  bool
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
		{name: "connection dropped, retried", answer: func(int) (int, http.Header, string) {
			return dropConnection, nil, ""
		}, wantDropped: true, wantAttempts: 3},
		{name: "code in the body's code field", answer: func(int) (int, http.Header, string) {
			return 400, nil, `{"code":"ParameterVersionNotFound","Message":"no such version"}`
		}, wantCode: "ParameterVersionNotFound", wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// ssm.Client first, as the reference for value, code and attempts.
			ref := newServer(t, region, tt.answer)
			out, refErr := ssm.NewFromConfig(sdkConfig(region, ref.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{
				Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
			})
			srv := newServer(t, region, tt.answer)
			got, err := ssmparam.New(sdkConfig(region, srv.URL)).GetSecureString(context.Background(), "/pricing/sdk-key")

			switch {
			case tt.wantDropped:
				var apiErr smithy.APIError
				if refErr == nil || errors.As(refErr, &apiErr) {
					t.Fatalf("ssm.Client: %v; want a failure to send", refErr)
				}
				if err == nil || errors.As(err, new(*awscall.Error)) {
					t.Errorf("GetSecureString error %v; want a failure to send", err)
				}
			case tt.wantCode == "":
				if refErr != nil || aws.ToString(out.Parameter.Value) != tt.want {
					t.Fatalf("ssm.Client: %v: the case does not say what SSM means", refErr)
				}
				if err != nil || got != tt.want {
					t.Errorf("GetSecureString = %q, %v; want %q", got, err, tt.want)
				}
			default:
				var apiErr smithy.APIError
				if !errors.As(refErr, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("ssm.Client: %v; want code %s: the case does not say what SSM means", refErr, tt.wantCode)
				}
				var ours *awscall.Error
				if !errors.As(err, &ours) || ours.Code != tt.wantCode || ours.Message != apiErr.ErrorMessage() {
					t.Errorf("GetSecureString error %v; want code %s and message %q", err, tt.wantCode, apiErr.ErrorMessage())
				}
			}
			if n, want := len(srv.requests()), len(ref.requests()); n != want || n != tt.wantAttempts {
				t.Errorf("%d attempts; ssm.Client made %d, want %d", n, want, tt.wantAttempts)
			}
		})
	}
}

// TestRetryMaxAttemptsAppliesAsToSSMClient: the configuration's RetryMaxAttempts (or
// AWS_MAX_ATTEMPTS) changes how often a throttled call is tried, for both clients alike.
func TestRetryMaxAttemptsAppliesAsToSSMClient(t *testing.T) {
	throttled := func(int) (int, http.Header, string) {
		return 400, nil, `{"__type":"ThrottlingException","message":"Rate exceeded"}`
	}
	ref, srv := newServer(t, region, throttled), newServer(t, region, throttled)
	refCfg, cfg := sdkConfig(region, ref.URL), sdkConfig(region, srv.URL)
	refCfg.RetryMaxAttempts, cfg.RetryMaxAttempts = 5, 5
	_, _ = ssm.NewFromConfig(refCfg).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/k")})
	_, _ = ssmparam.New(cfg).GetSecureString(context.Background(), "/k")
	if n, want := len(srv.requests()), len(ref.requests()); n != want || n != 5 {
		t.Errorf("%d attempts; ssm.Client made %d, want 5", n, want)
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
	c := ssmparam.New(sdkConfig(region, hung.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetSecureString(ctx, "/pricing/sdk-key"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetSecureString against a server that never answers: %v; want the context's deadline", err)
	}
}

// TestRegionalEndpointIsSSMClients compares the regional endpoint with the SDK's resolver for SSM
// in every region kind of the three partitions, with and without FIPS and dual-stack.
func TestRegionalEndpointIsSSMClients(t *testing.T) {
	resolver := ssm.NewDefaultEndpointResolverV2()
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-7", "mx-central-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"}
	for _, r := range regions {
		for _, fips := range []bool{false, true} {
			for _, dualStack := range []bool{false, true} {
				want, err := resolver.ResolveEndpoint(context.Background(), ssm.EndpointParameters{
					Region: aws.String(r), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
				})
				if err != nil {
					t.Fatal(err)
				}
				cfg := aws.Config{Region: r, ConfigSources: []any{config.EnvConfig{
					UseFIPSEndpoint:      map[bool]aws.FIPSEndpointState{true: aws.FIPSEndpointStateEnabled, false: aws.FIPSEndpointStateDisabled}[fips],
					UseDualStackEndpoint: map[bool]aws.DualStackEndpointState{true: aws.DualStackEndpointStateEnabled, false: aws.DualStackEndpointStateDisabled}[dualStack],
				}}}
				got, err := awscall.Endpoint(cfg, ssmparam.Service)
				if err != nil || got != want.URI.String() {
					t.Errorf("Endpoint(%s, FIPS %v, dual-stack %v) = %q, %v; ssm.Client calls %s", r, fips, dualStack, got, err, want.URI.String())
				}
			}
		}
	}
}

// endpointEnv are the variables that decide SSM's endpoint; each case of
// TestEndpointFromTheEnvironmentIsSSMClients sets some and unsets the others.
var endpointEnv = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
}

// capture is an HTTP client that records where a request was going and sends nothing.
type capture struct{ url string }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.url = r.URL.Scheme + "://" + r.URL.Host
	return nil, errors.New("captured")
}

// TestEndpointFromTheEnvironmentIsSSMClients loads the SDK configuration from the environment, as
// a function's cold start does, and compares Endpoint with where ssm.Client actually sends its
// request, or with its refusal. Values are spelt as people spell them (TRUE, True).
func TestEndpointFromTheEnvironmentIsSSMClients(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		// outside: a partition ssm.Client knows and ssmparam refuses (it says to name the endpoint).
		outside bool
	}{
		{name: "region", env: map[string]string{"AWS_REGION": "eu-west-1"}},
		{name: "FIPS", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "TRUE"}},
		{name: "dual-stack", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_DUALSTACK_ENDPOINT": "True"}},
		{name: "FIPS off", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "false"}},
		{name: "GovCloud FIPS", env: map[string]string{"AWS_REGION": "us-gov-west-1", "AWS_USE_FIPS_ENDPOINT": "true"}},
		{name: "China dual-stack", env: map[string]string{"AWS_REGION": "cn-north-1", "AWS_USE_DUALSTACK_ENDPOINT": "true"}},
		{name: "SSM's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000"}},
		{name: "every service's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}},
		{name: "both endpoints", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000"}},
		{name: "configured endpoints ignored", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"}},
		{name: "FIPS with an endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000"}},
		{name: "another partition", env: map[string]string{"AWS_REGION": "us-iso-east-1"}, outside: true},
		{name: "another partition, endpoint named", env: map[string]string{"AWS_REGION": "us-iso-east-1", "AWS_ENDPOINT_URL_SSM": "https://ssm.us-iso-east-1.c2s.ic.gov"}},
		{name: "no region", env: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range endpointEnv {
				t.Setenv(k, "") // restored after the test
				os.Unsetenv(k)
			}
			env := map[string]string{
				"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
				"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
			}
			maps.Copy(env, tt.env)
			for k, v := range env {
				t.Setenv(k, v)
			}
			cfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sent := &capture{}
			_, _ = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.HTTPClient, o.Retryer = sent, aws.NopRetryer{} }).
				GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/k")})

			got, err := awscall.Endpoint(cfg, ssmparam.Service)
			switch {
			case tt.outside:
				if sent.url == "" || err == nil {
					t.Errorf("ssm.Client calls %q, Endpoint = %q, %v; want an endpoint from ssm.Client and a refusal", sent.url, got, err)
				}
			case sent.url == "":
				if err == nil {
					t.Errorf("ssm.Client refuses the configuration; Endpoint = %q", got)
				}
			case err != nil || got != sent.url:
				t.Errorf("Endpoint = %q, %v; ssm.Client calls %s", got, err, sent.url)
			}
		})
	}
}

// TestAnEndpointItCannotNameFailsTheCallNotTheColdStart: New always builds a client, whose calls
// then say why there is no endpoint.
func TestAnEndpointItCannotNameFailsTheCallNotTheColdStart(t *testing.T) {
	c := ssmparam.New(aws.Config{Region: "us-iso-east-1", Credentials: creds})
	if _, err := c.GetSecureString(context.Background(), "/pricing/sdk-key"); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_SSM") {
		t.Errorf("GetSecureString = %v; want the endpoint's refusal, naming AWS_ENDPOINT_URL_SSM", err)
	}
}

// TestNoFunctionLinksTheSSMClient holds what the package is for: no function of the service links
// the SDK's SSM client, whose package initialisation would run in each of its cold starts again.
// (The role may call ssm:GetParameter, so tests/template's links test does not see it.)
func TestNoFunctionLinksTheSSMClient(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./cmd/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/...: %v", err)
	}
	const client = "github.com/aws/aws-sdk-go-v2/service/ssm"
	mains := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		mains++
		if slices.Contains(fields[1:], client) {
			t.Errorf("%s links %s: read parameters with ssmparam (package doc says why)", fields[0], client)
		}
		linksSSMParam := slices.ContainsFunc(fields[1:], func(p string) bool { return strings.HasSuffix(p, "/internal/ssmparam") })
		if strings.HasSuffix(fields[0], "/cmd/get-price") && !linksSSMParam {
			t.Errorf("%s does not link ssmparam: the check sees nothing", fields[0])
		}
	}
	if mains == 0 {
		t.Fatal("go list found no main package")
	}
}
