package lambdainvoke_test

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
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/lambdainvoke"
	"github.com/go-serverless/reference/shared/awscall"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
)

// The tests hold the hand-written Invoke and the reading of its answer to lambda.Client's: both
// call the same server, which checks each request's signature the way Lambda does, by signing
// what it received again.

const region = "eu-west-1"

// mustSign are the headers an Invoke request must sign: what Lambda routes by (host), what it
// authenticates (date, session token) and what decides what it does with the payload (its type,
// and that it is queued, not run while the caller waits). lambda.Client signs more (its
// amz-sdk-* headers, content-length): those are compared apart.
var mustSign = []string{"content-type", "host", "x-amz-date", "x-amz-invocation-type", "x-amz-security-token"}

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")

// received is one request as the server saw it.
type received struct {
	// Path is the escaped path as sent: "process-import:live" and "process-import%3Alive" route
	// alike but are signed differently, and an unescaped "/" routes elsewhere.
	Method, Path, Query, ContentType, InvocationType string
	// Trace is X-Amzn-Trace-Id: inside Lambda it carries the invocation's trace, and with it the
	// lineage Lambda's recursive loop detection counts. (The signer leaves it out.)
	Trace          string
	Body           string
	Scope          string // the Credential's date-less scope: region/service/aws4_request
	SignatureValid bool
	SecurityToken  string
	// SignedHeaders differ between the clients (the SDK signs its own headers too): compared apart.
	SignedHeaders []string
}

// server records every request and answers each with answer (status, headers, body); a status
// of dropConnection closes the connection instead of answering.
type server struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

const dropConnection = -1

func newServer(t *testing.T, region string, answer func(n int) (int, http.Header, string)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := received{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
			InvocationType: r.Header.Get("X-Amz-Invocation-Type"), SecurityToken: r.Header.Get("X-Amz-Security-Token"),
			Trace: r.Header.Get("X-Amzn-Trace-Id"), Body: string(raw),
		}
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
		// Lambda answers restJson1: JSON errors, and an empty body for a queued invoke.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", "8f5e2a3c-0000-4000-8000-000000000000")
		for k, v := range header {
			w.Header()[k] = v
		}
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

// verify signs the received request again, from its signed headers, escaped path, body and date
// only, and compares the signature: what Lambda does. It returns the credential scope without the
// date and the signed headers.
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
	// RequestURI keeps the path as sent (RawPath): the signer signs the escaped form.
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	c, _ := creds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, again, hex.EncodeToString(sum[:]), "lambda", region, at); err != nil {
		t.Errorf("sign again: %v", err)
		return scope, signed, false
	}
	return scope, signed, again.Header.Get("Authorization") == auth
}

// sdkConfig is the SDK configuration both clients get: the server as the endpoint, and a retryer
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

// invoke is the call lambdainvoke replaces, as the Continuer made it before.
func invoke(ctx context.Context, cfg aws.Config, function string, payload []byte) (*lambda.InvokeOutput, error) {
	return lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(function), InvocationType: types.InvocationTypeEvent, Payload: payload,
	})
}

const payload = `{"correlationId":"c-1","importId":"imp-1","offset":4096,"line":120,"depth":3}`

func accepted(int) (int, http.Header, string) { return http.StatusAccepted, nil, "" }

func TestSendsWhatLambdaClientSends(t *testing.T) {
	// As inside Lambda, where aws-lambda-go sets the trace of each invocation.
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "create-import")
	t.Setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1")
	functions := []struct{ name, function string }{
		{"name", "process-import"},
		{"name and alias", "process-import:live"},
		{"full ARN", "arn:aws:lambda:eu-west-1:123456789012:function:f:live"},
		{"partial ARN", "123456789012:function:process-import"},
		// No function is named so (Lambda refuses it), but a "/" left as it is would address
		// another path: it must be escaped as lambda.Client escapes it.
		{"slash", "team/process-import"},
	}
	for _, region := range []string{"eu-west-1", "cn-north-1"} {
		for _, f := range functions {
			t.Run(region+"/"+f.name, func(t *testing.T) {
				srv := newServer(t, region, accepted)
				cfg := sdkConfig(region, srv.URL)
				if _, err := invoke(context.Background(), cfg, f.function, []byte(payload)); err != nil {
					t.Fatalf("lambda.Client: %v", err)
				}
				if err := lambdainvoke.New(cfg).InvokeEvent(context.Background(), f.function, []byte(payload)); err != nil {
					t.Fatalf("InvokeEvent: %v", err)
				}
				got := srv.requests()
				if len(got) != 2 {
					t.Fatalf("%d requests; want one from each client", len(got))
				}
				sdk, ours := got[0], got[1]
				if !sdk.SignatureValid {
					t.Fatalf("the server's check refuses lambda.Client's signature: the check is wrong (%+v)", sdk)
				}
				if a, b := withoutSignedHeaders(ours), withoutSignedHeaders(sdk); !reflect.DeepEqual(a, b) {
					t.Errorf("lambdainvoke sent\n%+v\nlambda.Client sent\n%+v", ours, sdk)
				}
				for _, h := range mustSign {
					if !slices.Contains(sdk.SignedHeaders, h) {
						t.Errorf("lambda.Client does not sign %s (%v): the list is wrong", h, sdk.SignedHeaders)
					}
					if !slices.Contains(ours.SignedHeaders, h) {
						t.Errorf("lambdainvoke does not sign %s (signed: %v)", h, ours.SignedHeaders)
					}
				}
				if sdk.Scope != region+"/lambda/aws4_request" || sdk.SecurityToken != "session-token" ||
					sdk.InvocationType != "Event" || sdk.Trace == "" || sdk.Body != payload {
					t.Errorf("lambda.Client sent %+v: the comparison saw no real request", sdk)
				}
			})
		}
	}
}

func TestReadsWhatLambdaAnswersAsLambdaClientDoes(t *testing.T) {
	// Lambda's answers name the code in X-Amzn-ErrorType and say in the body's Type whose fault
	// it is; the message is "message" or, from the layer in front of Lambda, "Message".
	answer := func(status int, code, body string) func(int) (int, http.Header, string) {
		return func(int) (int, http.Header, string) {
			return status, http.Header{"X-Amzn-Errortype": {code}}, body
		}
	}
	throttled := answer(http.StatusTooManyRequests, "TooManyRequestsException",
		`{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`)
	tests := []struct {
		name        string
		answer      func(n int) (int, http.Header, string)
		wantCode    string // "": accepted
		wantDropped bool
		// wantUncoded: the body is not JSON. lambda.Client reports a failure to decode it, ours
		// an UnknownError of the answer's status: only the outcome and the attempts are compared.
		wantUncoded  bool
		wantAttempts int
	}{
		{name: "accepted", answer: accepted, wantAttempts: 1},
		{name: "function not found, not retried", answer: answer(http.StatusNotFound, "ResourceNotFoundException",
			`{"Type":"User","message":"Function not found: arn:aws:lambda:eu-west-1:123456789012:function:process-import"}`),
			wantCode: "ResourceNotFoundException", wantAttempts: 1},
		{name: "throttled, retried to the SDK's limit", answer: throttled, wantCode: "TooManyRequestsException", wantAttempts: 3},
		{name: "throttled once, then accepted", answer: func(n int) (int, http.Header, string) {
			if n == 1 {
				return throttled(n)
			}
			return accepted(n)
		}, wantAttempts: 2},
		{name: "service error, retried", answer: answer(http.StatusInternalServerError, "ServiceException",
			`{"Type":"Service","message":"An error occurred and the request cannot be processed."}`),
			wantCode: "ServiceException", wantAttempts: 3},
		{name: "access denied, code with a suffix", answer: answer(http.StatusForbidden,
			"AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
			`{"Message":"User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: lambda:InvokeFunction"}`),
			wantCode: "AccessDeniedException", wantAttempts: 1},
		{name: "payload too large", answer: answer(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			`{"Type":"User","message":"Request must be smaller than 1048576 bytes for the Invoke operation"}`),
			wantCode: "RequestEntityTooLargeException", wantAttempts: 1},
		{name: "code only in the body's __type", answer: func(int) (int, http.Header, string) {
			return http.StatusBadRequest, nil, `{"__type":"com.amazonaws.lambda#InvalidRequestContentException","message":"Could not parse request body into json"}`
		}, wantCode: "InvalidRequestContentException", wantAttempts: 1},
		{name: "code only in the body's code", answer: func(int) (int, http.Header, string) {
			return http.StatusBadRequest, nil, `{"code":"InvalidParameterValueException","Message":"bad qualifier"}`
		}, wantCode: "InvalidParameterValueException", wantAttempts: 1},
		{name: "no code at all", answer: func(int) (int, http.Header, string) {
			return http.StatusBadRequest, nil, `{"Type":"User","message":"something was wrong"}`
		}, wantCode: "UnknownError", wantAttempts: 1},
		{name: "unavailable, empty body, retried", answer: func(int) (int, http.Header, string) {
			return http.StatusServiceUnavailable, nil, ""
		}, wantCode: "UnknownError", wantAttempts: 3},
		{name: "bad gateway in front of Lambda, retried", answer: func(int) (int, http.Header, string) {
			return http.StatusBadGateway, http.Header{"Content-Type": {"text/html"}}, "<html><body>502 Bad Gateway</body></html>"
		}, wantUncoded: true, wantAttempts: 3},
		{name: "connection dropped, retried", answer: func(int) (int, http.Header, string) {
			return dropConnection, nil, ""
		}, wantDropped: true, wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// lambda.Client first, as the reference for outcome, code and attempts.
			ref := newServer(t, region, tt.answer)
			_, refErr := invoke(context.Background(), sdkConfig(region, ref.URL), "process-import", []byte(payload))
			srv := newServer(t, region, tt.answer)
			err := lambdainvoke.New(sdkConfig(region, srv.URL)).InvokeEvent(context.Background(), "process-import", []byte(payload))

			switch {
			case tt.wantDropped:
				var apiErr smithy.APIError
				if refErr == nil || errors.As(refErr, &apiErr) {
					t.Fatalf("lambda.Client: %v; want a failure to send", refErr)
				}
				if err == nil || errors.As(err, new(*awscall.Error)) {
					t.Errorf("InvokeEvent error %v; want a failure to send", err)
				}
			case tt.wantUncoded:
				if refErr == nil {
					t.Fatalf("lambda.Client accepts %s: the case does not say what Lambda means", tt.name)
				}
				var ours *awscall.Error
				if !errors.As(err, &ours) || ours.Status != http.StatusBadGateway || ours.Code != "UnknownError" {
					t.Errorf("InvokeEvent error %v; want an *awscall.Error UnknownError of status 502", err)
				}
			case tt.wantCode == "":
				if refErr != nil {
					t.Fatalf("lambda.Client: %v: the case does not say what Lambda means", refErr)
				}
				if err != nil {
					t.Errorf("InvokeEvent = %v; want nil (queued)", err)
				}
			default:
				var apiErr smithy.APIError
				if !errors.As(refErr, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("lambda.Client: %v; want code %s: the case does not say what Lambda means", refErr, tt.wantCode)
				}
				var ours *awscall.Error
				if !errors.As(err, &ours) || ours.Code != tt.wantCode || ours.Message != apiErr.ErrorMessage() {
					t.Errorf("InvokeEvent error %v; want code %s and message %q", err, tt.wantCode, apiErr.ErrorMessage())
				}
			}
			if n, want := len(srv.requests()), len(ref.requests()); n != want || n != tt.wantAttempts {
				t.Errorf("%d attempts; lambda.Client made %d, want %d", n, want, tt.wantAttempts)
			}
		})
	}
}

// TestAnEventInvokeAnsweredAsRunIsNotQueued: Lambda answers an Event invoke 202; a 200 is the
// answer to a RequestResponse invoke, which would mean the function ran while the caller waited
// (or that something in between is not Lambda). lambda.Client reports it as success with
// StatusCode 200, which is why the Continuer checked StatusCode == 202 before; InvokeEvent checks
// it for its callers and says that 202 was wanted.
func TestAnEventInvokeAnsweredAsRunIsNotQueued(t *testing.T) {
	ran := func(int) (int, http.Header, string) { return http.StatusOK, nil, `{"ok":true}` }
	ref := newServer(t, region, ran)
	out, refErr := invoke(context.Background(), sdkConfig(region, ref.URL), "process-import", []byte(payload))
	if refErr != nil || out.StatusCode != http.StatusOK {
		t.Fatalf("lambda.Client: %+v, %v; want StatusCode 200 and no error: the case does not say what it means", out, refErr)
	}
	srv := newServer(t, region, ran)
	err := lambdainvoke.New(sdkConfig(region, srv.URL)).InvokeEvent(context.Background(), "process-import", []byte(payload))
	if err == nil || !strings.Contains(err.Error(), "202") {
		t.Errorf("InvokeEvent answered 200 = %v; want an error saying 202 was wanted", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d attempts; want 1: a 200 is an answer, not a failure to retry", n)
	}
}

// TestRetryMaxAttemptsAppliesAsToLambdaClient: the configuration's RetryMaxAttempts (or
// AWS_MAX_ATTEMPTS) changes how often a throttled call is tried, for both clients alike.
func TestRetryMaxAttemptsAppliesAsToLambdaClient(t *testing.T) {
	throttled := func(int) (int, http.Header, string) {
		return http.StatusTooManyRequests, http.Header{"X-Amzn-Errortype": {"TooManyRequestsException"}},
			`{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate Exceeded."}`
	}
	ref, srv := newServer(t, region, throttled), newServer(t, region, throttled)
	refCfg, cfg := sdkConfig(region, ref.URL), sdkConfig(region, srv.URL)
	refCfg.RetryMaxAttempts, cfg.RetryMaxAttempts = 5, 5
	_, _ = invoke(context.Background(), refCfg, "process-import", []byte(payload))
	_ = lambdainvoke.New(cfg).InvokeEvent(context.Background(), "process-import", []byte(payload))
	if n, want := len(srv.requests()), len(ref.requests()); n != want || n != 5 {
		t.Errorf("%d attempts; lambda.Client made %d, want 5", n, want)
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
	i := lambdainvoke.New(sdkConfig(region, hung.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- i.InvokeEvent(ctx, "process-import", []byte(payload)) }()
	// An attempt the context does not bound waits for the server forever: fail, do not hang.
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("InvokeEvent against a server that never answers: %v; want the context's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("InvokeEvent against a server that never answers still waits 10 s after its context's deadline")
	}
}

// TestRegionalEndpointIsLambdaClients compares the regional endpoint with the SDK's resolver for
// Lambda in every region kind of the three partitions, with and without FIPS and dual-stack.
// GovCloud is where Lambda's rules differ from SSM's: its FIPS endpoint is lambda-fips there too.
func TestRegionalEndpointIsLambdaClients(t *testing.T) {
	resolver := lambda.NewDefaultEndpointResolverV2()
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "il-central-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"}
	for _, r := range regions {
		for _, fips := range []bool{false, true} {
			for _, dualStack := range []bool{false, true} {
				want, err := resolver.ResolveEndpoint(context.Background(), lambda.EndpointParameters{
					Region: aws.String(r), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
				})
				if err != nil {
					t.Fatal(err)
				}
				cfg := aws.Config{Region: r, ConfigSources: []any{config.EnvConfig{
					UseFIPSEndpoint:      map[bool]aws.FIPSEndpointState{true: aws.FIPSEndpointStateEnabled, false: aws.FIPSEndpointStateDisabled}[fips],
					UseDualStackEndpoint: map[bool]aws.DualStackEndpointState{true: aws.DualStackEndpointStateEnabled, false: aws.DualStackEndpointStateDisabled}[dualStack],
				}}}
				got, err := awscall.Endpoint(cfg, lambdainvoke.Service)
				if err != nil || got != want.URI.String() {
					t.Errorf("Endpoint(%s, FIPS %v, dual-stack %v) = %q, %v; lambda.Client calls %s", r, fips, dualStack, got, err, want.URI.String())
				}
			}
		}
	}
}

// endpointEnv are the variables that decide Lambda's endpoint (and SSM's, which must not);
// each case of TestEndpointFromTheEnvironmentIsLambdaClients sets some and unsets the others.
var endpointEnv = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_SSM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
}

// capture is an HTTP client that records where a request was going and sends nothing.
type capture struct{ url string }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.url = r.URL.Scheme + "://" + r.URL.Host
	return nil, errors.New("captured")
}

// TestEndpointFromTheEnvironmentIsLambdaClients loads the SDK configuration from the environment,
// as a function's cold start does, and compares Endpoint with where lambda.Client actually sends
// its request, or with its refusal. The local runner and LocalStack name the endpoint this way.
func TestEndpointFromTheEnvironmentIsLambdaClients(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{name: "none set", env: map[string]string{"AWS_REGION": "eu-west-1"}},
		{name: "every service's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}},
		{name: "Lambda's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "both endpoints", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "SSM's endpoint is not Lambda's", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000"}},
		{name: "configured endpoints ignored", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
		{name: "FIPS with an endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
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
			_, _ = lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.HTTPClient, o.Retryer = sent, aws.NopRetryer{} }).
				Invoke(context.Background(), &lambda.InvokeInput{
					FunctionName: aws.String("process-import"), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload),
				})

			got, err := awscall.Endpoint(cfg, lambdainvoke.Service)
			switch {
			case sent.url == "":
				if err == nil {
					t.Errorf("lambda.Client refuses the configuration; Endpoint = %q", got)
				}
			case err != nil || got != sent.url:
				t.Errorf("Endpoint = %q, %v; lambda.Client calls %s", got, err, sent.url)
			}
		})
	}
}

// TestNoFunctionLinksTheLambdaClient holds what the package is for: no function of the service
// links the SDK's Lambda client, whose package initialisation would run in each of its cold starts
// again. (The roles may call lambda:InvokeFunction, so tests/template's links test does not see it.)
func TestNoFunctionLinksTheLambdaClient(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./cmd/...")
	cmd.Dir = filepath.Join("..", "..", "..") // services/imports
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/...: %v", err)
	}
	const client = "github.com/aws/aws-sdk-go-v2/service/lambda"
	mains := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		mains++
		if slices.Contains(fields[1:], client) {
			t.Errorf("%s links %s: queue invocations with lambdainvoke (package doc says why)", fields[0], client)
		}
		linksInvoker := slices.ContainsFunc(fields[1:], func(p string) bool { return strings.HasSuffix(p, "/internal/imports/lambdainvoke") })
		if strings.HasSuffix(fields[0], "/cmd/process-import") && !linksInvoker {
			t.Errorf("%s does not link lambdainvoke: the check sees nothing", fields[0])
		}
	}
	if mains == 0 {
		t.Fatal("go list found no main package")
	}
}

// fakeLambda records the call the Continuer makes and answers err.
type fakeLambda struct {
	function string
	payload  []byte
	deadline time.Time
	bounded  bool
	err      error
}

func (f *fakeLambda) InvokeEvent(ctx context.Context, function string, payload []byte) error {
	f.function, f.payload = function, payload
	f.deadline, f.bounded = ctx.Deadline()
	return f.err
}

func TestContinuerQueuesTheLinkForTheFunction(t *testing.T) {
	link := imports.Link{
		Carrier:  correlation.Carrier{CorrelationID: "c-1", DebugSampled: true},
		ImportID: "imp-1", Offset: 4096, Line: 120, Depth: 3,
	}
	const timeout = time.Minute
	fake := &fakeLambda{}
	c := lambdainvoke.Continuer{Lambda: fake, Function: "arn:aws:lambda:eu-west-1:123456789012:function:process-import", Calls: budget.Calls{Timeout: timeout}}
	start := time.Now()
	if err := c.Continue(context.Background(), link); err != nil {
		t.Fatalf("Continue: %v", err)
	}
	if fake.function != c.Function {
		t.Errorf("invoked %q; want %q", fake.function, c.Function)
	}
	// The next invocation reads the payload as a Link: what it reads must be what was handed over.
	var got imports.Link
	if err := json.Unmarshal(fake.payload, &got); err != nil || got != link {
		t.Errorf("payload %s reads as %+v, %v; want %+v", fake.payload, got, err, link)
	}
	// Without Calls the call would run to Lambda's own deadline, leaving no time to fail the
	// import cleanly.
	if !fake.bounded || fake.deadline.Before(start) || fake.deadline.After(time.Now().Add(timeout)) {
		t.Errorf("the call's context has deadline %v (set %v); want one within %v of the call", fake.deadline, fake.bounded, timeout)
	}
}

func TestContinuerSaysWhichLinkLambdaRefused(t *testing.T) {
	refused := &awscall.Error{Service: "lambda", Operation: "Invoke", Status: http.StatusTooManyRequests, Code: "TooManyRequestsException", Message: "Rate Exceeded."}
	c := lambdainvoke.Continuer{Lambda: &fakeLambda{err: refused}, Function: "process-import"}
	err := c.Continue(context.Background(), imports.Link{ImportID: "imp-1", Offset: 4096})
	var got *awscall.Error
	if !errors.As(err, &got) || got != refused {
		t.Errorf("Continue = %v; want Lambda's refusal wrapped", err)
	}
	for _, want := range []string{"process-import", "imp-1", "4096"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Continue = %v; want it to name %s", err, want)
		}
	}
}
