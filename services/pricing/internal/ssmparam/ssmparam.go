// Package ssmparam reads one Parameter Store SecureString, decrypted, with one signed call to
// SSM's GetParameter: the SDK key the flag client needs, without the SDK's SSM client.
//
// Why not ssm.Client: linking github.com/aws/aws-sdk-go-v2/service/ssm costs every cold start of
// the function about 1.4 ms, a third of the whole SDK floor (its schemas package builds the shapes
// of SSM's ~150 operations at package initialisation: 1.0 ms and 1.4 MB, the size of the rest of
// the function's initialisation; README "Cold start"), to make one call. What this package writes
// by hand is only the request and its answer, which ssmparam_test.go holds to what ssm.Client
// sends and reads; everything that is easy to get wrong is still the SDK's: the Signature
// Version 4 signer, the credentials, the retry policy and the HTTP client, all from aws.Config.
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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls GetParameter. Build it once per cold start with New.
type Client struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	retryer  aws.Retryer
	signer   *v4.Signer
	now      func() time.Time
}

// maxAnswer bounds what is read of an answer: a parameter holds at most 8 KB (advanced tier).
const maxAnswer = 64 << 10

// New builds a Client from the SDK configuration the function's other clients use. getenv is
// os.Getenv: AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL point it elsewhere (the local stand-ins),
// as they do ssm.Client. It returns an error where it cannot name the endpoint ssm.Client would
// use (FIPS or dual-stack endpoints asked for, or a partition other than aws, aws-cn and
// aws-us-gov): set AWS_ENDPOINT_URL_SSM to that endpoint.
func New(cfg aws.Config, getenv func(string) string) (*Client, error) {
	endpoint, err := Endpoint(cfg, getenv)
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint: endpoint, region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient,
		signer: v4.NewSigner(), now: time.Now,
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMaxAttempts > 0:
		c.retryer = retry.AddWithMaxAttempts(retry.NewStandard(), cfg.RetryMaxAttempts)
	default:
		c.retryer = retry.NewStandard()
	}
	return c, nil
}

// Endpoint is the SSM endpoint ssm.Client would call with cfg: AWS_ENDPOINT_URL_SSM, else
// cfg.BaseEndpoint (AWS_ENDPOINT_URL), else the regional endpoint of the region's partition.
func Endpoint(cfg aws.Config, getenv func(string) string) (string, error) {
	if getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "true" {
		if u := getenv("AWS_ENDPOINT_URL_SSM"); u != "" {
			return u, nil
		}
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint, nil
	}
	if cfg.Region == "" {
		return "", errors.New("ssm endpoint: no region")
	}
	for _, v := range []string{"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		if getenv(v) == "true" {
			return "", fmt.Errorf("ssm endpoint: %s is set: name the endpoint in AWS_ENDPOINT_URL_SSM", v)
		}
	}
	suffix := "amazonaws.com" // the aws and aws-us-gov partitions
	switch {
	case strings.HasPrefix(cfg.Region, "cn-"):
		suffix = "amazonaws.com.cn"
	case strings.Contains(cfg.Region, "-iso") || strings.HasPrefix(cfg.Region, "eusc-"):
		return "", fmt.Errorf("ssm endpoint: region %s is outside the aws, aws-cn and aws-us-gov partitions: name the endpoint in AWS_ENDPOINT_URL_SSM", cfg.Region)
	}
	return "https://ssm." + cfg.Region + "." + suffix, nil
}

// Error is SSM's answer to a call it refused, or a status with no error in the body. It carries
// the code and status the SDK's retryer classifies (throttling and 5xx are retried).
type Error struct {
	Status  int
	Code    string
	Message string
}

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
			return "", err
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
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("ssm GetParameter: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, c.now().UTC()); err != nil {
		return "", fmt.Errorf("ssm GetParameter: sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("ssm GetParameter: %w", err)
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

// answerError reads an awsJson1_1 error: the code from X-Amzn-ErrorType or the body's __type,
// either possibly namespaced ("com.amazonaws.ssm#ParameterNotFound") or suffixed (":http://...").
func answerError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &body)
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = body.Type
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	msg := body.Message
	if msg == "" {
		msg = body.MessageU
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &Error{Status: resp.StatusCode, Code: code, Message: msg}
}
