// Package ssmparam reads one Parameter Store SecureString, decrypted, with one signed call to
// SSM's GetParameter: the SDK key the flag client needs, without the SDK's SSM client.
//
// Why not ssm.Client: linking github.com/aws/aws-sdk-go-v2/service/ssm costs every cold start of
// the function about 1.4 ms, a third of the whole SDK floor (its schemas package builds the shapes
// of SSM's ~150 operations at package initialisation: 1.0 ms and 1.4 MB, the size of the rest of
// the function's initialisation; README "Cold start"), to make one call. What this package writes
// by hand is the request, the endpoint and the reading of the answer, and ssmparam_test.go holds
// each to ssm.Client's; what is easy to get wrong stays the SDK's: the Signature Version 4
// signer, the credentials, the retry policy and the HTTP client, all from aws.Config.
//
// What ssm.Client does and this does not, none of which one call per cold start needs: the retry
// quota and adaptive mode's client-side rate limiting (the retryer decides what is retried and
// how long to wait, but no tokens are taken), clock-skew correction, and the endpoints of
// partitions other than aws, aws-cn and aws-us-gov (name them in AWS_ENDPOINT_URL_SSM).
package ssmparam

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Client calls GetParameter. Build it once per cold start with New.
type Client struct {
	endpoint    string
	endpointErr error // why there is no endpoint: every call returns it
	region      string
	creds       aws.CredentialsProvider
	http        aws.HTTPClient
	retryer     aws.Retryer
	signer      *v4.Signer
}

// maxAnswer bounds what is read of an answer: a parameter holds at most 8 KB (advanced tier).
const maxAnswer = 64 << 10

// New builds a Client from the SDK configuration the function's other clients use. It never
// fails: a configuration it cannot name an endpoint for (Endpoint) fails every call instead, so
// the flag client reports NO_SDK_KEY and the function serves its fallback, as it would for an SSM
// that refuses.
func New(cfg aws.Config) *Client {
	c := &Client{region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner()}
	c.endpoint, c.endpointErr = Endpoint(cfg)
	if c.http == nil {
		c.http = http.DefaultClient
	}
	// As ssm.NewFromConfig resolves it: the configuration's retryer (adaptive or standard by its
	// RetryMode otherwise), with RetryMaxAttempts over it when set.
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		c.retryer = retry.NewAdaptiveMode()
	default:
		c.retryer = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts > 0 {
		c.retryer = retry.AddWithMaxAttempts(c.retryer, cfg.RetryMaxAttempts)
	}
	return c
}

// The configuration sources (config.EnvConfig, config.SharedConfig) answer these, and ssm.Client
// reads its endpoint settings through them.
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

// Endpoint is the endpoint ssm.Client calls with cfg: AWS_ENDPOINT_URL_SSM (or the services
// section of the shared config), else cfg.BaseEndpoint (AWS_ENDPOINT_URL), else the regional
// endpoint of the region's partition, FIPS and dual-stack as configured. It refuses what
// ssm.Client refuses (FIPS or dual-stack with a configured endpoint) and the partitions it does
// not know.
func Endpoint(cfg aws.Config) (string, error) {
	ctx := context.Background()
	base := aws.ToString(cfg.BaseEndpoint)
	// ssm.Client takes the service's own setting unless only AWS_ENDPOINT_URL is in the
	// environment, and none when configured endpoints are ignored.
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, service := os.LookupEnv("AWS_ENDPOINT_URL_SSM")
	if !global || service {
		if u, ok := serviceEndpoint(ctx, cfg.ConfigSources); ok {
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
			return "", errors.New("ssm endpoint: FIPS or dual-stack endpoints cannot be combined " +
				"with a configured endpoint (ssm.Client refuses it too)")
		}
		return base, nil
	}
	return regional(cfg.Region, fips, dualStack)
}

// serviceEndpoint is SSM's own configured endpoint, read as ssm.Client reads it.
func serviceEndpoint(ctx context.Context, sources []any) (string, bool) {
	ignored, _ := first(sources, func(p ignoreEndpointsSource) (bool, bool, error) {
		return p.GetIgnoreConfiguredEndpoints(ctx)
	})
	if ignored {
		return "", false
	}
	return first(sources, func(p serviceEndpointSource) (string, bool, error) {
		return p.GetServiceBaseEndpoint(ctx, "SSM")
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

// regional is SSM's endpoint in region, by the rules of the aws, aws-cn and aws-us-gov
// partitions: ssm-fips for FIPS (except in aws-us-gov without dual-stack, whose ssm endpoint is
// FIPS already), the partition's dual-stack domain for dual-stack.
func regional(region string, fips, dualStack bool) (string, error) {
	if region == "" {
		return "", errors.New("ssm endpoint: no region")
	}
	domain, dualStackDomain := "amazonaws.com", "api.aws"
	gov := strings.HasPrefix(region, "us-gov-")
	switch {
	case strings.HasPrefix(region, "cn-"):
		domain, dualStackDomain = "amazonaws.com.cn", "api.amazonwebservices.com.cn"
	case strings.Contains(region, "-iso") || strings.HasPrefix(region, "eusc-"):
		return "", fmt.Errorf("ssm endpoint: region %s is outside the aws, aws-cn and aws-us-gov "+
			"partitions: name the endpoint in AWS_ENDPOINT_URL_SSM", region)
	}
	name := "ssm"
	if fips && (dualStack || !gov) {
		name = "ssm-fips"
	}
	if dualStack {
		domain = dualStackDomain
	}
	return "https://" + name + "." + region + "." + domain, nil
}

// Error is SSM's answer to a call it refused, or a status with no error in the body. It carries
// the code and status the SDK's retryer classifies (throttling and 5xx are retried).
type Error struct {
	// Status is the answer's HTTP status.
	Status int
	// Code is SSM's error code without namespace ("ParameterNotFound", "ThrottlingException").
	Code string
	// Message is SSM's message; it names the parameter, never its value.
	Message string
}

// Error says what SSM answered.
func (e *Error) Error() string {
	return fmt.Sprintf("ssm GetParameter: %d %s: %s", e.Status, e.Code, e.Message)
}

// ErrorCode is the SSM error code, as retry.RetryableErrorCode and the throttle checks read it.
func (e *Error) ErrorCode() string { return e.Code }

// HTTPStatusCode is the answer's status, as retry.RetryableHTTPStatusCode reads it.
func (e *Error) HTTPStatusCode() int { return e.Status }

// GetSecureString returns the decrypted value of the parameter name (a name or an ARN). Attempts
// follow the SDK's retry policy; ctx bounds them all.
func (c *Client) GetSecureString(ctx context.Context, name string) (string, error) {
	if c.endpointErr != nil {
		return "", c.endpointErr
	}
	body, err := json.Marshal(struct {
		Name           string
		WithDecryption bool
	}{name, true})
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		value, err := c.getOnce(ctx, body)
		if err == nil {
			return value, nil
		}
		if ctx.Err() != nil || !c.retryer.IsErrorRetryable(err) || attempt >= c.retryer.MaxAttempts() {
			return "", err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// getOnce makes one attempt: the awsJson1_1 request ssm.Client makes, signed by the SDK's signer.
func (c *Client) getOnce(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("ssm GetParameter: %w", err)
	}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	if c.creds != nil { // none: anonymous, as the SDK treats it
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return "", fmt.Errorf("ssm GetParameter: credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		err = c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, time.Now().UTC())
		if err != nil {
			return "", fmt.Errorf("ssm GetParameter: sign: %w", err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// As the SDK wraps it, so that its retryer retries any failure to send or to read the
		// answer (a keep-alive connection closed during a freeze), not only those it recognises.
		return "", fmt.Errorf("ssm GetParameter: %w", &smithyhttp.RequestSendError{Err: err})
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("ssm GetParameter: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", answerError(resp, raw)
	}
	var out struct {
		Parameter *struct{ Value *string }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("ssm GetParameter: decode the answer: %w", err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", errors.New("ssm GetParameter: the answer has no value")
	}
	return *out.Parameter.Value, nil
}

// answerError reads an awsJson1_1 error as the SDK does: the code from X-Amzn-ErrorType, else the
// body's __type, else its code, without a ":" suffix or a "namespace#" prefix.
func answerError(resp *http.Response, raw []byte) *Error {
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
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &Error{Status: resp.StatusCode, Code: code, Message: body.Message}
}
