package launchdarkly

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ParameterReader is the one SSM call ReadSDKKey makes: GetParameter with decryption
// (ssmparam.Client, which reads it without linking the SDK's SSM client).
type ParameterReader interface {
	GetSecureString(ctx context.Context, name string) (string, error)
}

// ReadSDKKey reads the SDK key from the SSM Parameter Store SecureString name, decrypted, with
// surrounding white space trimmed: a key stored with a trailing newline (easy with
// `put-parameter --value file://key.txt`) makes the SDK refuse to build a client. Errors name the
// parameter, never its value.
func ReadSDKKey(ctx context.Context, params ParameterReader, name string) (SDKKey, error) {
	value, err := params.GetSecureString(ctx, name)
	if err != nil {
		return "", fmt.Errorf("read sdk key parameter %s: %w", name, err)
	}
	key := strings.TrimSpace(value)
	if key == "" {
		return "", fmt.Errorf("read sdk key parameter %s: %w", name, errEmptyKey)
	}
	return SDKKey(key), nil
}

var errEmptyKey = errors.New("the value is empty")
