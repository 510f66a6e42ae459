package launchdarkly

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ParameterGetter is the one SSM call ReadSDKKey makes (ssm.Client).
type ParameterGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// ReadSDKKey reads the SDK key from the SSM Parameter Store SecureString name, decrypted, with
// surrounding white space trimmed: a key stored with a trailing newline (easy with
// `put-parameter --value file://key.txt`) makes the SDK refuse to build a client. Errors name the
// parameter, never its value.
func ReadSDKKey(ctx context.Context, params ParameterGetter, name string) (SDKKey, error) {
	out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read sdk key parameter %s: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("read sdk key parameter %s: no value", name)
	}
	key := strings.TrimSpace(*out.Parameter.Value)
	if key == "" {
		return "", fmt.Errorf("read sdk key parameter %s: %w", name, errEmptyKey)
	}
	return SDKKey(key), nil
}

var errEmptyKey = errors.New("the value is empty")
