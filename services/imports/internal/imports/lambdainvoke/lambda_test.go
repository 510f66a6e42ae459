package lambdainvoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/lambdainvoke"
	"github.com/go-serverless/reference/shared/awscall"
	"github.com/go-serverless/reference/shared/awscall/awscalltest"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
)

// The tests hold the hand-written Invoke and the reading of its answer to lambda.Client's: both
// call the same server, which checks each request's signature the way Lambda does, by signing
// what it received again.

const region = "eu-west-1"

// mustSign are the headers an Invoke request must sign: what Lambda routes by (host), what it
// authenticates (date, session token) and what decides what it does with the payload (its type,
// and that it is queued, not run while the caller waits). lambda.Client signs its amz-sdk-*
// headers too: the signed headers are compared apart.
var mustSign = []string{"content-type", "host", "x-amz-date", "x-amz-invocation-type", "x-amz-security-token"}

// received is what the tests compare of one request.
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

// newServer is an awscalltest.Server for Lambda in region: it answers restJson1, JSON errors and
// an empty body for a queued invoke, with a request id as Lambda does.
func newServer(t *testing.T, region string, answer awscalltest.Answer) *awscalltest.Server {
	return awscalltest.NewServer(t, region, "lambda", "application/json", func(n int) (int, http.Header, string) {
		status, header, body := answer(n)
		h := http.Header{"X-Amzn-Requestid": {"8f5e2a3c-0000-4000-8000-000000000000"}}
		maps.Copy(h, header)
		return status, h, body
	})
}

// requests returns what srv received, as the tests compare it.
func requests(srv *awscalltest.Server) []received {
	var got []received
	for _, r := range srv.Requests() {
		got = append(got, received{
			Method: r.Method, Path: r.Path, Query: r.Query, ContentType: r.Header.Get("Content-Type"),
			InvocationType: r.Header.Get("X-Amz-Invocation-Type"), SecurityToken: r.Header.Get("X-Amz-Security-Token"),
			Trace: r.Header.Get("X-Amzn-Trace-Id"), Body: string(r.Body),
			Scope: r.Scope, SignatureValid: r.SignatureValid, SignedHeaders: r.SignedHeaders,
		})
	}
	return got
}

func withoutSignedHeaders(r received) received {
	r.SignedHeaders = nil
	return r
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
	awscalltest.InsideLambda(t, "create-import")
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
				cfg := awscalltest.Config(region, srv.URL)
				if _, err := invoke(context.Background(), cfg, f.function, []byte(payload)); err != nil {
					t.Fatalf("lambda.Client: %v", err)
				}
				if err := lambdainvoke.New(cfg).InvokeEvent(context.Background(), f.function, []byte(payload)); err != nil {
					t.Fatalf("InvokeEvent: %v", err)
				}
				got := requests(srv)
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
			return awscalltest.DropConnection, nil, ""
		}, wantDropped: true, wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// lambda.Client first, as the reference for outcome, code and attempts.
			ref := newServer(t, region, tt.answer)
			_, refErr := invoke(context.Background(), awscalltest.Config(region, ref.URL), "process-import", []byte(payload))
			srv := newServer(t, region, tt.answer)
			err := lambdainvoke.New(awscalltest.Config(region, srv.URL)).InvokeEvent(context.Background(), "process-import", []byte(payload))

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
				var refID interface{ ServiceRequestID() string }
				if !errors.As(refErr, &refID) || ours == nil || ours.RequestID != refID.ServiceRequestID() || !strings.Contains(err.Error(), ours.RequestID) {
					t.Errorf("InvokeEvent error %v; want Lambda's request id, as lambda.Client reports it", err)
				}
			}
			if n, want := len(requests(srv)), len(requests(ref)); n != want || n != tt.wantAttempts {
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
	out, refErr := invoke(context.Background(), awscalltest.Config(region, ref.URL), "process-import", []byte(payload))
	if refErr != nil || out.StatusCode != http.StatusOK {
		t.Fatalf("lambda.Client: %+v, %v; want StatusCode 200 and no error: the case does not say what it means", out, refErr)
	}
	srv := newServer(t, region, ran)
	err := lambdainvoke.New(awscalltest.Config(region, srv.URL)).InvokeEvent(context.Background(), "process-import", []byte(payload))
	if err == nil || !strings.Contains(err.Error(), "202") {
		t.Errorf("InvokeEvent answered 200 = %v; want an error saying 202 was wanted", err)
	}
	if n := len(requests(srv)); n != 1 {
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
	refCfg, cfg := awscalltest.Config(region, ref.URL), awscalltest.Config(region, srv.URL)
	refCfg.RetryMaxAttempts, cfg.RetryMaxAttempts = 5, 5
	_, _ = invoke(context.Background(), refCfg, "process-import", []byte(payload))
	_ = lambdainvoke.New(cfg).InvokeEvent(context.Background(), "process-import", []byte(payload))
	if n, want := len(requests(srv)), len(requests(ref)); n != want || n != 5 {
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
	i := lambdainvoke.New(awscalltest.Config(region, hung.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := i.InvokeEvent(ctx, "process-import", []byte(payload)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("InvokeEvent against a server that never answers: %v; want the context's deadline", err)
	}
}

// TestRegionalEndpointIsLambdaClients compares the regional endpoint with the SDK's resolver for
// Lambda in every region kind of the three partitions, with and without FIPS and dual-stack.
// GovCloud is where Lambda's rules differ from SSM's: its FIPS endpoint is lambda-fips there too.
func TestRegionalEndpointIsLambdaClients(t *testing.T) {
	resolver := lambda.NewDefaultEndpointResolverV2()
	awscalltest.CompareRegionalEndpoints(t, lambdainvoke.Service, func(region string, fips, dualStack bool) (string, error) {
		e, err := resolver.ResolveEndpoint(context.Background(), lambda.EndpointParameters{
			Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
		})
		return e.URI.String(), err
	})
}

// TestEndpointFromTheEnvironmentIsLambdaClients loads the SDK configuration from the environment,
// as a function's cold start does, and compares Endpoint with where lambda.Client actually sends
// its request, or with its refusal. The local runner and LocalStack name the endpoint this way.
func TestEndpointFromTheEnvironmentIsLambdaClients(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		config string // a shared config file's content
		// outside: a region lambda.Client calls and awscall refuses, saying what to set instead.
		outside string
	}{
		{name: "none set", env: map[string]string{"AWS_REGION": "eu-west-1"}},
		{name: "every service's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}},
		{name: "Lambda's endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "both endpoints", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "SSM's endpoint is not Lambda's", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9000"}},
		{name: "configured endpoints ignored", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
		{name: "FIPS with an endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "FIPS", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "TRUE"}},
		{name: "GovCloud FIPS", env: map[string]string{"AWS_REGION": "us-gov-west-1", "AWS_USE_FIPS_ENDPOINT": "true"}},
		{name: "China dual-stack", env: map[string]string{"AWS_REGION": "cn-north-1", "AWS_USE_DUALSTACK_ENDPOINT": "True"}},
		{name: "Lambda's endpoint in the shared config", config: "[default]\nservices = local\n[services local]\nlambda =\n  endpoint_url = http://127.0.0.1:9002\n",
			env: map[string]string{"AWS_REGION": "us-east-1"}},
		{name: "another partition", env: map[string]string{"AWS_REGION": "us-iso-east-1"}, outside: "AWS_ENDPOINT_URL_LAMBDA"},
		{name: "another partition (ISOB)", env: map[string]string{"AWS_REGION": "us-isob-east-1"}, outside: "AWS_ENDPOINT_URL_LAMBDA"},
		{name: "another partition (ISOE)", env: map[string]string{"AWS_REGION": "eu-isoe-west-1"}, outside: "AWS_ENDPOINT_URL_LAMBDA"},
		{name: "another partition (EU sovereign cloud)", env: map[string]string{"AWS_REGION": "eusc-de-east-1"}, outside: "AWS_ENDPOINT_URL_LAMBDA"},
		{name: "another partition, endpoint named", env: map[string]string{"AWS_REGION": "us-iso-east-1", "AWS_ENDPOINT_URL_LAMBDA": "https://lambda.us-iso-east-1.c2s.ic.gov"}},
		{name: "a pseudo-region", env: map[string]string{"AWS_REGION": "us-east-1-fips"}, outside: "AWS_USE_FIPS_ENDPOINT"},
		{name: "a pseudo-region with an endpoint", env: map[string]string{"AWS_REGION": "us-east-1-fips", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9001"}},
		{name: "no region", env: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			if tt.config != "" {
				env["AWS_CONFIG_FILE"] = filepath.Join(t.TempDir(), "config")
				if err := os.WriteFile(env["AWS_CONFIG_FILE"], []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := awscalltest.ConfigFromEnv(t, env)
			sent := &awscalltest.Capture{}
			_, _ = lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.HTTPClient, o.Retryer = sent, aws.NopRetryer{} }).
				Invoke(context.Background(), &lambda.InvokeInput{
					FunctionName: aws.String("process-import"), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload),
				})

			got, err := awscall.Endpoint(cfg, lambdainvoke.Service)
			switch {
			case tt.outside != "":
				if sent.URL == "" || err == nil || !strings.Contains(err.Error(), tt.outside) {
					t.Errorf("lambda.Client calls %q, Endpoint = %q, %v; want an endpoint from lambda.Client and a refusal naming %s", sent.URL, got, err, tt.outside)
				}
			case sent.URL == "":
				if err == nil {
					t.Errorf("lambda.Client refuses the configuration; Endpoint = %q", got)
				}
			case err != nil || got != sent.URL:
				t.Errorf("Endpoint = %q, %v; lambda.Client calls %s", got, err, sent.URL)
			}
		})
	}
}

// TestAnEndpointItCannotNameFailsTheCallNotTheColdStart: New always builds an Invoker, whose calls
// then say why there is no endpoint; the chain's link fails and goes to the OnFailure queue.
func TestAnEndpointItCannotNameFailsTheCallNotTheColdStart(t *testing.T) {
	i := lambdainvoke.New(aws.Config{Region: "us-iso-east-1", Credentials: awscalltest.Credentials})
	if err := i.InvokeEvent(context.Background(), "process-import", []byte(payload)); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_LAMBDA") {
		t.Errorf("InvokeEvent = %v; want the endpoint's refusal, naming AWS_ENDPOINT_URL_LAMBDA", err)
	}
}

// TestAnEmptyPayloadIsRefused: lambda.Client sends an empty payload without a body or
// Content-Type, which InvokeEvent does not reproduce, so it sends nothing.
func TestAnEmptyPayloadIsRefused(t *testing.T) {
	srv := newServer(t, region, accepted)
	if err := lambdainvoke.New(awscalltest.Config(region, srv.URL)).InvokeEvent(context.Background(), "process-import", nil); err == nil {
		t.Error("InvokeEvent with no payload = nil; want a refusal")
	}
	if n := len(requests(srv)); n != 0 {
		t.Errorf("%d requests sent for an empty payload; want none", n)
	}
}

// TestRetryAfterIsHeededAsByLambdaClient: a throttled answer's X-Amz-Retry-After (milliseconds)
// sets the wait before the next attempt, however short the backoff; both clients wait at least
// that long before trying again.
func TestRetryAfterIsHeededAsByLambdaClient(t *testing.T) {
	const wait = 300 * time.Millisecond
	answer := func(n int) (int, http.Header, string) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{
				"X-Amzn-Errortype":  {"TooManyRequestsException"},
				"X-Amz-Retry-After": {strconv.Itoa(int(wait.Milliseconds()))},
			}, `{"Type":"User","message":"Rate Exceeded."}`
		}
		return accepted(n)
	}
	ref, srv := newServer(t, region, answer), newServer(t, region, answer)
	if _, err := invoke(context.Background(), awscalltest.Config(region, ref.URL), "process-import", []byte(payload)); err != nil {
		t.Fatalf("lambda.Client: %v", err)
	}
	if err := lambdainvoke.New(awscalltest.Config(region, srv.URL)).InvokeEvent(context.Background(), "process-import", []byte(payload)); err != nil {
		t.Fatalf("InvokeEvent: %v", err)
	}
	for name, s := range map[string]*awscalltest.Server{"lambda.Client": ref, "lambdainvoke": srv} {
		got := s.Requests()
		if len(got) != 2 {
			t.Fatalf("%s made %d attempts; want 2", name, len(got))
		}
		if gap := got[1].At.Sub(got[0].At); gap < wait {
			t.Errorf("%s tried again %v after the throttle; X-Amz-Retry-After asked for %v", name, gap, wait)
		}
	}
}

// noLimit is a retryer whose MaxAttempts is 0: no limit, by aws.Retryer's contract.
type noLimit struct{ aws.Retryer }

func (noLimit) MaxAttempts() int { return 0 }

// TestNoAttemptLimitMeansNoLimit: a retryer with MaxAttempts 0, or a RetryMaxAttempts below 0,
// retries until the call succeeds, for both clients.
func TestNoAttemptLimitMeansNoLimit(t *testing.T) {
	answer := func(n int) (int, http.Header, string) {
		if n <= 3 {
			return http.StatusServiceUnavailable, http.Header{"X-Amzn-Errortype": {"ServiceException"}}, `{"message":"busy"}`
		}
		return accepted(n)
	}
	for name, unlimit := range map[string]func(*aws.Config){
		"the retryer's MaxAttempts 0": func(c *aws.Config) {
			base := c.Retryer
			c.Retryer = func() aws.Retryer { return noLimit{base()} }
		},
		// AWS_MAX_ATTEMPTS=-1 reads so: the SDK's clients wrap the retryer for any value but 0.
		"RetryMaxAttempts below 0": func(c *aws.Config) { c.RetryMaxAttempts = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			ref, srv := newServer(t, region, answer), newServer(t, region, answer)
			refCfg, cfg := awscalltest.Config(region, ref.URL), awscalltest.Config(region, srv.URL)
			unlimit(&refCfg)
			unlimit(&cfg)
			if _, err := invoke(context.Background(), refCfg, "process-import", []byte(payload)); err != nil {
				t.Fatalf("lambda.Client: %v: the case does not say what no limit means", err)
			}
			if err := lambdainvoke.New(cfg).InvokeEvent(context.Background(), "process-import", []byte(payload)); err != nil {
				t.Errorf("InvokeEvent = %v; want it accepted on the fourth attempt", err)
			}
			if n, want := len(requests(srv)), len(requests(ref)); n != want || n != 4 {
				t.Errorf("%d attempts; lambda.Client made %d, want 4", n, want)
			}
		})
	}
}

// TestTheContextEndsTheWaitBetweenAttempts: a deadline that falls during the backoff ends the
// call with the deadline's error, without another attempt.
func TestTheContextEndsTheWaitBetweenAttempts(t *testing.T) {
	srv := newServer(t, region, func(int) (int, http.Header, string) {
		return http.StatusServiceUnavailable, http.Header{"X-Amzn-Errortype": {"ServiceException"}}, `{"message":"busy"}`
	})
	cfg := awscalltest.Config(region, srv.URL)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := lambdainvoke.New(cfg).InvokeEvent(ctx, "process-import", []byte(payload)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("InvokeEvent = %v; want the context's deadline", err)
	}
	if n := len(requests(srv)); n != 1 {
		t.Errorf("%d attempts; want 1 (the wait for the second outlasts the context)", n)
	}
}

// TestNoFunctionLinksTheLambdaClient holds what the package is for: no function of the service
// links the SDK's Lambda client, whose package initialisation would run in each of its cold starts
// again. (The roles may call lambda:InvokeFunction, so tests/template's links test does not see it.)
func TestNoFunctionLinksTheLambdaClient(t *testing.T) {
	const client = "github.com/aws/aws-sdk-go-v2/service/lambda"
	for main, deps := range awscalltest.Deps(t, filepath.Join("..", "..", "..")) { // services/imports
		if slices.Contains(deps, client) {
			t.Errorf("%s links %s: queue invocations with lambdainvoke (package doc says why)", main, client)
		}
		linksInvoker := slices.ContainsFunc(deps, func(p string) bool { return strings.HasSuffix(p, "/internal/imports/lambdainvoke") })
		if strings.HasSuffix(main, "/cmd/process-import") && !linksInvoker {
			t.Errorf("%s does not link lambdainvoke: the check sees nothing", main)
		}
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
