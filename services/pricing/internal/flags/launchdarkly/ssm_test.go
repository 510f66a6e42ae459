package launchdarkly

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fakeSSM struct {
	value string
	err   error
	// asked records the parameter name the caller asked for.
	asked *string
}

func (f fakeSSM) GetSecureString(_ context.Context, name string) (string, error) {
	if f.asked != nil {
		*f.asked = name
	}
	return f.value, f.err
}

func TestReadSDKKey(t *testing.T) {
	tests := []struct {
		name    string
		ssm     fakeSSM
		want    SDKKey
		wantErr bool
	}{
		{name: "trailing newline", ssm: fakeSSM{value: "sdk-abc\n"}, want: "sdk-abc"},
		{name: "spaces and CRLF", ssm: fakeSSM{value: " sdk-abc \r\n"}, want: "sdk-abc"},
		{name: "empty", ssm: fakeSSM{value: " \n"}, wantErr: true},
		{name: "access denied", ssm: fakeSSM{err: errors.New("AccessDeniedException")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			tt.ssm.asked = &asked
			got, err := ReadSDKKey(context.Background(), tt.ssm, "/pricing/sdk-key")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ReadSDKKey = %q, %v; want %q (error %v)", string(got), err, string(tt.want), tt.wantErr)
			}
			if asked != "/pricing/sdk-key" {
				t.Errorf("asked for %q; want the parameter named", asked)
			}
			if err != nil && (!strings.Contains(err.Error(), "/pricing/sdk-key") || strings.Contains(err.Error(), "sdk-abc")) {
				t.Errorf("error %q; want the parameter's name and never its value", err)
			}
		})
	}
}
