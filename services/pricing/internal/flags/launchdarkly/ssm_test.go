package launchdarkly

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type fakeSSM struct {
	value string
	err   error
	// decrypted records whether the caller asked for decryption.
	decrypted *bool
}

func (f fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if f.decrypted != nil {
		*f.decrypted = aws.ToBool(in.WithDecryption)
	}
	if f.err != nil {
		return nil, f.err
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(f.value)}}, nil
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
			var decrypted bool
			tt.ssm.decrypted = &decrypted
			got, err := ReadSDKKey(context.Background(), tt.ssm, "/pricing/sdk-key")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ReadSDKKey = %q, %v; want %q (error %v)", string(got), err, string(tt.want), tt.wantErr)
			}
			if !decrypted {
				t.Error("GetParameter without WithDecryption; a SecureString comes back encrypted")
			}
			if err != nil && (!strings.Contains(err.Error(), "/pricing/sdk-key") || strings.Contains(err.Error(), "sdk-abc")) {
				t.Errorf("error %q; want the parameter's name and never its value", err)
			}
		})
	}
}
