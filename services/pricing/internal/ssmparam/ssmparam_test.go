package ssmparam_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/pricing/internal/ssmparam"
	"github.com/go-serverless/reference/shared/awscall"
	"github.com/go-serverless/reference/shared/awscall/awscalltest"
)

// The tests hold the hand-written request and answer to ssm.Client's: both call the same server,
// which checks each request's signature the way SSM does, by signing what it received again.

const region = "eu-west-1"

// mustSign are the headers a GetParameter request must sign: what SSM routes and reads by.
var mustSign = []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"}

// received is what the tests compare of one request.
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

// newServer is an awscalltest.Server for SSM in region.
func newServer(t *testing.T, region string, answer awscalltest.Answer) *awscalltest.Server {
	return awscalltest.NewServer(t, region, "ssm", "application/x-amz-json-1.1", answer)
}

// requests returns what srv received, as the tests compare it.
func requests(srv *awscalltest.Server) []received {
	var got []received
	for _, r := range srv.Requests() {
		rec := received{
			Method: r.Method, Path: r.Path, ContentType: r.Header.Get("Content-Type"),
			Target: r.Header.Get("X-Amz-Target"), SecurityToken: r.Header.Get("X-Amz-Security-Token"),
			Trace: r.Header.Get("X-Amzn-Trace-Id"),
			Scope: r.Scope, SignatureValid: r.SignatureValid, SignedHeaders: r.SignedHeaders,
		}
		_ = json.Unmarshal(r.Body, &rec.Body)
		got = append(got, rec)
	}
	return got
}

func withoutSignedHeaders(r received) received {
	r.SignedHeaders = nil
	return r
}

const found = `{"Parameter":{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/pricing/sdk-key","DataType":"text","LastModifiedDate":1.7e9,"Name":"/pricing/sdk-key","Type":"SecureString","Value":"sdk-abc\n","Version":3}}`

func TestSendsWhatSSMClientSends(t *testing.T) {
	// Inside Lambda, as the functions run: both clients pass the invocation's trace on.
	awscalltest.InsideLambda(t, "GetPriceFunction")
	for _, region := range []string{"eu-west-1", "cn-north-1"} {
		t.Run(region, func(t *testing.T) {
			srv := newServer(t, region, func(int) (int, http.Header, string) { return 200, nil, found })
			cfg := awscalltest.Config(region, srv.URL)
			if _, err := ssm.NewFromConfig(cfg).GetParameter(context.Background(), &ssm.GetParameterInput{
				Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
			}); err != nil {
				t.Fatalf("ssm.Client: %v", err)
			}
			if _, err := ssmparam.New(cfg).GetSecureString(context.Background(), "/pricing/sdk-key"); err != nil {
				t.Fatalf("ssmparam: %v", err)
			}
			got := requests(srv)
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
			return awscalltest.DropConnection, nil, ""
		}, wantDropped: true, wantAttempts: 3},
		{name: "no code at all", answer: func(int) (int, http.Header, string) {
			return 400, nil, `{"message":"something was wrong"}`
		}, wantCode: "UnknownError", wantAttempts: 1},
		{name: "code in the body's code field", answer: func(int) (int, http.Header, string) {
			return 400, nil, `{"code":"ParameterVersionNotFound","Message":"no such version"}`
		}, wantCode: "ParameterVersionNotFound", wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// ssm.Client first, as the reference for value, code and attempts.
			ref := newServer(t, region, tt.answer)
			out, refErr := ssm.NewFromConfig(awscalltest.Config(region, ref.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{
				Name: aws.String("/pricing/sdk-key"), WithDecryption: aws.Bool(true),
			})
			srv := newServer(t, region, tt.answer)
			got, err := ssmparam.New(awscalltest.Config(region, srv.URL)).GetSecureString(context.Background(), "/pricing/sdk-key")

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
			if n, want := len(requests(srv)), len(requests(ref)); n != want || n != tt.wantAttempts {
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
	refCfg, cfg := awscalltest.Config(region, ref.URL), awscalltest.Config(region, srv.URL)
	refCfg.RetryMaxAttempts, cfg.RetryMaxAttempts = 5, 5
	_, _ = ssm.NewFromConfig(refCfg).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/k")})
	_, _ = ssmparam.New(cfg).GetSecureString(context.Background(), "/k")
	if n, want := len(requests(srv)), len(requests(ref)); n != want || n != 5 {
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
	c := ssmparam.New(awscalltest.Config(region, hung.URL))
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
	awscalltest.CompareRegionalEndpoints(t, ssmparam.Service, func(region string, fips, dualStack bool) (string, error) {
		e, err := resolver.ResolveEndpoint(context.Background(), ssm.EndpointParameters{
			Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
		})
		return e.URI.String(), err
	})
}

// TestEndpointFromTheEnvironmentIsSSMClients loads the SDK configuration from the environment, as
// a function's cold start does, and compares Endpoint with where ssm.Client actually sends its
// request, or with its refusal. Values are spelt as people spell them (TRUE, True).
func TestEndpointFromTheEnvironmentIsSSMClients(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		// outside: a partition ssm.Client knows and ssmparam refuses, naming AWS_ENDPOINT_URL_SSM.
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
			cfg := awscalltest.ConfigFromEnv(t, tt.env)
			sent := &awscalltest.Capture{}
			_, _ = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.HTTPClient, o.Retryer = sent, aws.NopRetryer{} }).
				GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/k")})

			got, err := awscall.Endpoint(cfg, ssmparam.Service)
			switch {
			case tt.outside:
				if sent.URL == "" || err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_SSM") {
					t.Errorf("ssm.Client calls %q, Endpoint = %q, %v; want an endpoint from ssm.Client and a refusal", sent.URL, got, err)
				}
			case sent.URL == "":
				if err == nil {
					t.Errorf("ssm.Client refuses the configuration; Endpoint = %q", got)
				}
			case err != nil || got != sent.URL:
				t.Errorf("Endpoint = %q, %v; ssm.Client calls %s", got, err, sent.URL)
			}
		})
	}
}

// TestAnEndpointItCannotNameFailsTheCallNotTheColdStart: New always builds a client, whose calls
// then say why there is no endpoint.
func TestAnEndpointItCannotNameFailsTheCallNotTheColdStart(t *testing.T) {
	c := ssmparam.New(aws.Config{Region: "us-iso-east-1", Credentials: awscalltest.Credentials})
	if _, err := c.GetSecureString(context.Background(), "/pricing/sdk-key"); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_SSM") {
		t.Errorf("GetSecureString = %v; want the endpoint's refusal, naming AWS_ENDPOINT_URL_SSM", err)
	}
}

// TestNoFunctionLinksTheSSMClient holds what the package is for: no function of the service links
// the SDK's SSM client, whose package initialisation would run in each of its cold starts again.
// (The role may call ssm:GetParameter, so tests/template's links test does not see it.)
func TestNoFunctionLinksTheSSMClient(t *testing.T) {
	const client = "github.com/aws/aws-sdk-go-v2/service/ssm"
	for main, deps := range awscalltest.Deps(t, filepath.Join("..", "..")) {
		if slices.Contains(deps, client) {
			t.Errorf("%s links %s: read parameters with ssmparam (package doc says why)", main, client)
		}
		linksSSMParam := slices.ContainsFunc(deps, func(p string) bool { return strings.HasSuffix(p, "/internal/ssmparam") })
		if strings.HasSuffix(main, "/cmd/get-price") && !linksSSMParam {
			t.Errorf("%s does not link ssmparam: the check sees nothing", main)
		}
	}
}
