// Package ssmparam reads one Parameter Store SecureString, decrypted, with one signed call to
// SSM's GetParameter: the SDK key the flag client needs, without the SDK's SSM client.
//
// Why not ssm.Client: linking github.com/aws/aws-sdk-go-v2/service/ssm costs every cold start of
// the function about 1.4 ms, a third of the whole SDK floor (its schemas package builds the shapes
// of SSM's ~150 operations at package initialisation: 1.0 ms and 1.4 MB, the size of the rest of
// the function's initialisation; README "Cold start"), to make one call. What this package writes
// by hand is the request and the reading of the answer, and ssmparam_test.go holds each to
// ssm.Client's; the endpoint, the signing, the retries and the decoding of a refusal are
// shared/awscall's, which says what the SDK's client does that it does not.
package ssmparam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/go-serverless/reference/shared/awscall"
)

// Service is SSM as awscall calls it. Its plain endpoints in aws-us-gov are FIPS endpoints.
var Service = awscall.Service{ID: "SSM", SigningName: "ssm", Prefix: "ssm", GovCloudIsFIPS: true}

// Client calls GetParameter. Build it once per cold start with New.
type Client struct {
	call *awscall.Client
}

// New builds a Client from the SDK configuration the function's other clients use. It never
// fails: a configuration it cannot name an endpoint for (awscall.Endpoint) fails every call
// instead, so the flag client reports NO_SDK_KEY and the function serves its fallback, as it would
// for an SSM that refuses.
func New(cfg aws.Config) *Client {
	return &Client{call: awscall.New(cfg, Service)}
}

// GetSecureString returns the decrypted value of the parameter name (a name or an ARN). Attempts
// follow the SDK's retry policy; ctx bounds them all. SSM's refusal is an *awscall.Error; its
// message names the parameter, never its value.
func (c *Client) GetSecureString(ctx context.Context, name string) (string, error) {
	body, err := json.Marshal(struct {
		Name           string
		WithDecryption bool
	}{name, true})
	if err != nil {
		return "", err
	}
	// The awsJson1_1 request ssm.Client makes.
	answer, err := c.call.Call(ctx, awscall.Request{
		Operation: "GetParameter",
		Method:    http.MethodPost,
		Path:      "/",
		Header: http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {"AmazonSSM.GetParameter"},
		},
		Body: body,
	})
	if err != nil {
		return "", err
	}
	var out struct {
		Parameter *struct{ Value *string }
	}
	if err := json.Unmarshal(answer.Body, &out); err != nil {
		return "", fmt.Errorf("ssm GetParameter: decode the answer: %w", err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", errors.New("ssm GetParameter: the answer has no value")
	}
	return *out.Parameter.Value, nil
}
