// Package awscall makes one signed call to an AWS API without linking that service's SDK client:
// for a function that calls one operation of a service whose client costs every cold start more
// than the call is worth.
//
// Why: the SDK builds the shapes of all of a service's operations when the program starts,
// whether it calls one or none (service/ssm/schemas: 1.0 ms and 1.4 MB; service/lambda/schemas:
// 0.6 ms and 680 KB, against a whole SDK floor of about 3.6 ms; `make bench` measures it). What a
// caller of this package writes by hand is its one request and the reading of its one answer, and
// its tests hold both to the SDK client's. What is easy to get wrong stays the SDK's: the
// Signature Version 4 signer, the credentials, the retry policy and the HTTP client, all from
// aws.Config, and the middleware that passes the invocation's X-Ray trace on. This package adds the
// endpoint (as the SDK resolves it, from the same configuration sources), the retry loop and the
// decoding of an error answer (awsJson1_1 and restJson1 carry it alike).
//
// What the SDK's clients do and this does not, none of which a call or two per invocation needs:
// the retry quota and adaptive mode's client-side rate limiting (the retryer decides what is
// retried and how long to wait, X-Amz-Retry-After included, but no tokens are taken), clock-skew
// correction, the endpoints of partitions other than aws, aws-cn and aws-us-gov (name them in
// AWS_ENDPOINT_URL_<SERVICE>), pseudo-regions such as "us-east-1-fips" (refused: set the region
// and AWS_USE_FIPS_ENDPOINT), the SDK's User-Agent and amz-sdk-* headers (CloudTrail shows Go's
// User-Agent), and whatever aws.Config's APIOptions, interceptors, endpoint resolvers and
// DefaultsMode timeouts would add: a function whose configuration sets them must set them here
// too. shared/coldstart sets none.
//
// A caller names its Service and writes its request (pricing's ssmparam: SSM GetParameter;
// imports' lambdainvoke: Lambda Invoke); awscalltest holds it to the SDK client it replaces.
package awscall

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Service names an AWS service as its SDK client does.
type Service struct {
	// ID is the SDK's service ID ("SSM", "Lambda"): AWS_ENDPOINT_URL_<ID> and the services section
	// of the shared config name the service's own endpoint by it.
	ID string
	// SigningName is the service in the signature's scope ("ssm", "lambda").
	SigningName string
	// Prefix is the first label of the regional endpoint's host ("ssm" in ssm.eu-west-1.amazonaws.com);
	// FIPS endpoints add "-fips" to it.
	Prefix string
	// GovCloudIsFIPS says the service's plain endpoints in aws-us-gov are FIPS endpoints already,
	// so FIPS without dual-stack keeps Prefix there (SSM's endpoint rules say so; Lambda's do not).
	GovCloudIsFIPS bool
}

// envName is the service's AWS_ENDPOINT_URL_ variable, as the SDK derives it from the ID.
func (s Service) envName() string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(s.ID, " ", "_"))
}

// Client calls one service. Build it once per cold start with New.
type Client struct {
	service     Service
	endpoint    string
	endpointErr error // why there is no endpoint: every call returns it
	region      string
	creds       aws.CredentialsProvider
	http        aws.HTTPClient
	retryer     aws.Retryer
	signer      *v4.Signer
}

// maxAnswer bounds what is read of an answer: the callers' answers are a few KB at most.
const maxAnswer = 64 << 10

// New builds a Client of service s from the SDK configuration the function's other clients use. It
// never fails: a configuration it cannot name an endpoint for (Endpoint) fails every call instead,
// as a refusing service would, so that a function that can do without the call still starts.
func New(cfg aws.Config, s Service) *Client {
	c := &Client{service: s, region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner()}
	c.endpoint, c.endpointErr = Endpoint(cfg, s)
	if c.http == nil {
		c.http = http.DefaultClient
	}
	// As the SDK's NewFromConfig resolves it: the configuration's retryer (adaptive or standard by
	// its RetryMode otherwise), with RetryMaxAttempts over it when set.
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		c.retryer = retry.NewAdaptiveMode()
	default:
		c.retryer = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts != 0 { // as the SDK's clients: below 0, as 0 in MaxAttempts, no limit
		c.retryer = retry.AddWithMaxAttempts(c.retryer, cfg.RetryMaxAttempts)
	}
	return c
}

// The configuration sources (config.EnvConfig, config.SharedConfig) answer these, and the SDK's
// clients read their endpoint settings through them.
type (
	fipsSource interface {
		GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error)
	}
	dualStackSource interface {
		GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error)
	}
	ignoreEndpointsSource interface {
		GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
	}
	serviceEndpointSource interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
)

// Endpoint is the endpoint s's SDK client calls with cfg: AWS_ENDPOINT_URL_<ID> (or the services
// section of the shared config), else cfg.BaseEndpoint (AWS_ENDPOINT_URL), else the regional
// endpoint of the region's partition, FIPS and dual-stack as configured. It refuses what the
// client refuses (FIPS or dual-stack with a configured endpoint) and the partitions it does not
// know.
func Endpoint(cfg aws.Config, s Service) (string, error) {
	// The SDK maps pseudo-regions ("fips-us-gov-west-1", "us-east-1-fips") to the region with
	// FIPS on, and refuses a region that is no host label, endpoint configured or not; the region
	// is also in the signature's scope, where a pseudo-region would not do.
	if strings.Contains(cfg.Region, "fips") {
		return "", fmt.Errorf("%s endpoint: %q is a pseudo-region: set AWS_REGION to the region and "+
			"AWS_USE_FIPS_ENDPOINT=true", s.SigningName, cfg.Region)
	}
	if cfg.Region != "" && !validLabel(cfg.Region) {
		return "", fmt.Errorf("%s endpoint: %q is not a region name", s.SigningName, cfg.Region)
	}
	ctx := context.Background()
	base := aws.ToString(cfg.BaseEndpoint)
	// The client takes the service's own setting unless only AWS_ENDPOINT_URL is in the
	// environment, and none when configured endpoints are ignored.
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, service := os.LookupEnv(s.envName())
	if !global || service {
		if u, ok := serviceEndpoint(ctx, cfg.ConfigSources, s.ID); ok {
			base = u
		}
	}
	fipsState, _ := first(cfg.ConfigSources, func(p fipsSource) (aws.FIPSEndpointState, bool, error) {
		return p.GetUseFIPSEndpoint(ctx)
	})
	dualStackState, _ := first(cfg.ConfigSources, func(p dualStackSource) (aws.DualStackEndpointState, bool, error) {
		return p.GetUseDualStackEndpoint(ctx)
	})
	fips, dualStack := fipsState == aws.FIPSEndpointStateEnabled, dualStackState == aws.DualStackEndpointStateEnabled
	if base != "" {
		if fips || dualStack {
			return "", fmt.Errorf("%s endpoint: FIPS or dual-stack endpoints cannot be combined "+
				"with a configured endpoint (the SDK's client refuses it too)", s.SigningName)
		}
		return base, nil
	}
	return s.regional(cfg.Region, fips, dualStack)
}

// serviceEndpoint is the service's own configured endpoint, read as its SDK client reads it.
func serviceEndpoint(ctx context.Context, sources []any, id string) (string, bool) {
	ignored, _ := first(sources, func(p ignoreEndpointsSource) (bool, bool, error) {
		return p.GetIgnoreConfiguredEndpoints(ctx)
	})
	if ignored {
		return "", false
	}
	return first(sources, func(p serviceEndpointSource) (string, bool, error) {
		return p.GetServiceBaseEndpoint(ctx, id)
	})
}

// first reads a setting as the SDK's configuration does: from the first source that implements S
// and has it, or fails to read it (then not found).
func first[S, V any](sources []any, get func(S) (V, bool, error)) (V, bool) {
	for _, s := range sources {
		if p, ok := s.(S); ok {
			if v, found, err := get(p); err != nil || found {
				return v, err == nil
			}
		}
	}
	var zero V
	return zero, false
}

// regional is the service's endpoint in region, by the rules of the aws, aws-cn and aws-us-gov
// partitions: Prefix-fips for FIPS (see GovCloudIsFIPS), the partition's dual-stack domain for
// dual-stack.
func (s Service) regional(region string, fips, dualStack bool) (string, error) {
	if region == "" {
		return "", fmt.Errorf("%s endpoint: no region", s.SigningName)
	}
	domain, dualStackDomain := "amazonaws.com", "api.aws"
	gov := strings.HasPrefix(region, "us-gov-")
	switch {
	case strings.HasPrefix(region, "cn-"):
		domain, dualStackDomain = "amazonaws.com.cn", "api.amazonwebservices.com.cn"
	case strings.Contains(region, "-iso") || strings.HasPrefix(region, "eusc-"):
		return "", fmt.Errorf("%s endpoint: region %s is outside the aws, aws-cn and aws-us-gov "+
			"partitions: name the endpoint in %s", s.SigningName, region, s.envName())
	}
	name := s.Prefix
	if fips && (dualStack || !gov || !s.GovCloudIsFIPS) {
		name += "-fips"
	}
	if dualStack {
		domain = dualStackDomain
	}
	return "https://" + name + "." + region + "." + domain, nil
}

// validLabel reports whether region can be a host label: letters, digits and inner hyphens.
func validLabel(region string) bool {
	for i, c := range region {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' && i > 0 && i < len(region)-1) {
			return false
		}
	}
	return len(region) <= 63
}

// Request is one call.
type Request struct {
	// Operation names the call in errors ("GetParameter").
	Operation string
	Method    string
	// Path is the escaped path under the endpoint ("/", "/2015-03-31/functions/f/invocations").
	Path   string
	Header http.Header
	Body   []byte
}

// Answer is the service's answer to a call it accepted (a 2xx status).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is a service's answer to a call it refused (a status other than 2xx). It carries the code
// and status the SDK's retryer classifies (throttling and 5xx are retried).
type Error struct {
	// Service and Operation name the call ("ssm", "GetParameter").
	Service, Operation string
	// Status is the answer's HTTP status.
	Status int
	// Code is the service's error code without namespace ("ParameterNotFound",
	// "TooManyRequestsException").
	Code string
	// Message is the service's message.
	Message string
	// RequestID is the service's id of the request (X-Amzn-RequestId, else X-Amz-RequestId, as
	// the SDK reads it): what AWS Support asks for.
	RequestID string
	// retryAfter is the answer's X-Amz-Retry-After, which the wait before the next attempt heeds.
	retryAfter string
}

// Error says what the service answered.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s: %s", e.Service, e.Operation, e.Status, e.Code, e.Message)
	if e.RequestID != "" {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// ErrorCode is the service's error code, as retry.RetryableErrorCode and the throttle checks read
// it.
func (e *Error) ErrorCode() string { return e.Code }

// HTTPStatusCode is the answer's status, as retry.RetryableHTTPStatusCode reads it.
func (e *Error) HTTPStatusCode() int { return e.Status }

// Call makes r, retried as the SDK's retry policy says; ctx bounds every attempt and every wait.
// It returns a 2xx answer, or the last attempt's error: an *Error for a refusal.
func (c *Client) Call(ctx context.Context, r Request) (Answer, error) {
	if c.endpointErr != nil {
		return Answer{}, c.endpointErr
	}
	for attempt := 1; ; attempt++ {
		answer, err := c.callOnce(ctx, r)
		if err == nil {
			return answer, nil
		}
		// The retryer decides by code and status: a 429 of any code is a throttle to it, as it is
		// to the SDK for a code the service's model does not name.
		if ctx.Err() != nil || !c.retryer.IsErrorRetryable(err) {
			return Answer{}, err
		}
		if most := c.retryer.MaxAttempts(); most > 0 && attempt >= most { // 0: no limit
			return Answer{}, fmt.Errorf("gave up after %d attempts, the retryer's most: %w", attempt, err)
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return Answer{}, err
		}
		delay = heedRetryAfter(delay, err)
		select {
		case <-ctx.Done():
			return Answer{}, errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// heedRetryAfter is the wait before the next attempt as the SDK's retry middleware makes it: the
// refusal's X-Amz-Retry-After (milliseconds), kept between the backoff and 5 s more.
func heedRetryAfter(backoff time.Duration, err error) time.Duration {
	var e *Error
	if !errors.As(err, &e) || e.retryAfter == "" {
		return backoff
	}
	ms, perr := strconv.ParseInt(e.retryAfter, 10, 64)
	if perr != nil || ms < 0 {
		return backoff
	}
	return min(max(time.Duration(ms)*time.Millisecond, backoff), backoff+5*time.Second)
}

// callOnce makes one attempt, signed by the SDK's signer.
func (c *Client) callOnce(ctx context.Context, r Request) (Answer, error) {
	name := c.service.SigningName + " " + r.Operation
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimSuffix(c.endpoint, "/")+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return Answer{}, fmt.Errorf("%s: %w", name, err)
	}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	if err := traceHeader(ctx, req); err != nil {
		return Answer{}, fmt.Errorf("%s: %w", name, err)
	}
	if c.creds != nil { // none: anonymous, as the SDK treats it
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return Answer{}, fmt.Errorf("%s: credentials: %w", name, err)
		}
		sum := sha256.Sum256(r.Body)
		err = c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.service.SigningName, c.region, time.Now().UTC())
		if err != nil {
			return Answer{}, fmt.Errorf("%s: sign: %w", name, err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// As the SDK wraps it, so that its retryer retries any failure to send or to get the
		// answer's head (a keep-alive connection closed during a freeze), not only those it
		// recognises. A failure to read the body after it is not retried.
		return Answer{}, fmt.Errorf("%s: %w", name, &smithyhttp.RequestSendError{Err: err})
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return Answer{}, fmt.Errorf("%s: read the answer: %w", name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Answer{}, answerError(c.service.SigningName, r.Operation, resp, raw)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// traceHeader passes the invocation's trace on as the SDK's clients do, with the SDK's own
// middleware: inside Lambda, X-Amzn-Trace-Id from _X_AMZN_TRACE_ID (which aws-lambda-go sets for
// each invocation), so that X-Ray follows the call, an asynchronous invoke continues the trace,
// and Lambda's recursive loop detection sees the chain. (The signer leaves it unsigned, as it
// does for the SDK's clients.)
func traceHeader(ctx context.Context, req *http.Request) error {
	_, _, err := (&awsmiddleware.RecursionDetection{}).HandleBuild(ctx,
		middleware.BuildInput{Request: &smithyhttp.Request{Request: req}},
		middleware.BuildHandlerFunc(func(context.Context, middleware.BuildInput) (middleware.BuildOutput, middleware.Metadata, error) {
			return middleware.BuildOutput{}, middleware.Metadata{}, nil
		}))
	return err
}

// answerError reads an error answer as the SDK does for awsJson1_1 and restJson1: the code from
// X-Amzn-ErrorType, else the body's __type, else its code, without a ":" suffix or a "namespace#"
// prefix; UnknownError when it names none (a body that is not JSON too, where the SDK reports that
// it cannot decode it: the status still decides whether it is retried).
func answerError(service, operation string, resp *http.Response, raw []byte) *Error {
	var body struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"` // also "Message": encoding/json matches either
	}
	_ = json.Unmarshal(raw, &body)
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = body.Type
	}
	if code == "" {
		code = body.Code
	}
	code, _, _ = strings.Cut(code, ":")
	if _, after, ok := strings.Cut(code, "#"); ok {
		code = after
	}
	message := body.Message
	if code == "" { // as the SDK names an answer that names no code
		code = "UnknownError"
		if message == "" {
			message = code
		}
	}
	return &Error{
		Service: service, Operation: operation, Status: resp.StatusCode, Code: code, Message: message,
		RequestID:  cmp.Or(resp.Header.Get("X-Amzn-Requestid"), resp.Header.Get("X-Amz-Requestid")),
		retryAfter: resp.Header.Get("X-Amz-Retry-After"),
	}
}
