package awscall

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestHeedRetryAfterAsTheSDK: the wait before the next attempt is the refusal's
// X-Amz-Retry-After (milliseconds) kept between the backoff and 5 s more, as aws/retry's
// adjustForRetryAfterHeader makes it; a value that is no whole number of milliseconds, or no
// header, leaves the backoff.
func TestHeedRetryAfterAsTheSDK(t *testing.T) {
	refused := func(retryAfter string) error {
		return &Error{Status: 429, Code: "TooManyRequestsException", retryAfter: retryAfter}
	}
	for _, tc := range []struct {
		name    string
		backoff time.Duration
		err     error
		want    time.Duration
	}{
		{"header over the backoff", 0, refused("300"), 300 * time.Millisecond},
		{"header under the backoff", time.Second, refused("300"), time.Second},
		{"header over the backoff and 5 s", 0, refused("60000"), 5 * time.Second},
		{"header over the backoff and 5 s, from a backoff", time.Second, refused("60000"), 6 * time.Second},
		{"negative", 100 * time.Millisecond, refused("-1"), 100 * time.Millisecond},
		{"not a number", 100 * time.Millisecond, refused("soon"), 100 * time.Millisecond},
		{"seconds, not milliseconds", 100 * time.Millisecond, refused("1.5"), 100 * time.Millisecond},
		{"no header", 100 * time.Millisecond, refused(""), 100 * time.Millisecond},
		{"not a refusal", 100 * time.Millisecond, errors.New("connection reset"), 100 * time.Millisecond},
	} {
		if got := heedRetryAfter(tc.backoff, tc.err); got != tc.want {
			t.Errorf("%s: heedRetryAfter(%v, %v) = %v; want %v", tc.name, tc.backoff, tc.err, got, tc.want)
		}
	}
}

// TestARegionTheSDKWouldNotTakeIsRefused: a pseudo-region or a name that is no host label is
// refused whether or not an endpoint is configured, as the SDK's clients refuse it; real region
// names of every shape pass.
func TestARegionTheSDKWouldNotTakeIsRefused(t *testing.T) {
	s := Service{ID: "Lambda", SigningName: "lambda", Prefix: "lambda"}
	for _, region := range []string{"us-east-1-fips", "fips-us-gov-west-1", "us-east-1.", "-us-east-1", "us east 1"} {
		for _, endpoint := range []string{"", "http://127.0.0.1:9001"} {
			cfg := configFor(region, endpoint)
			if got, err := Endpoint(cfg, s); err == nil {
				t.Errorf("Endpoint(region %q, endpoint %q) = %q; want a refusal", region, endpoint, got)
			}
		}
	}
	for _, region := range []string{"us-east-1", "ap-southeast-7", "mx-central-1", "us-gov-west-1", "cn-northwest-1"} {
		if _, err := Endpoint(configFor(region, ""), s); err != nil {
			t.Errorf("Endpoint(region %q) = %v; want an endpoint", region, err)
		}
	}
}

func configFor(region, endpoint string) aws.Config {
	cfg := aws.Config{Region: region}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg
}
