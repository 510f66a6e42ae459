package flags

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSettingsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "polling", env: map[string]string{EnvSDKKeyParameter: "/p/key"}},
		{name: "file", env: map[string]string{EnvSource: "file", EnvFlagsFile: "/tmp/flags.json"}},
		{name: "daemon", env: map[string]string{EnvSource: "daemon", EnvSDKKeyParameter: "/p/key", EnvDynamoTable: "ld"}},
		{name: "file without file", env: map[string]string{EnvSource: "file"}, wantErr: EnvFlagsFile},
		{name: "polling without key", env: map[string]string{}, wantErr: EnvSDKKeyParameter},
		{name: "daemon without table", env: map[string]string{EnvSource: "daemon", EnvSDKKeyParameter: "/p/key"}, wantErr: EnvDynamoTable},
		{name: "streaming", env: map[string]string{EnvSource: "streaming"}, wantErr: "streaming"},
		{name: "poll too often", env: map[string]string{EnvSDKKeyParameter: "/p/key", EnvPollInterval: "5"}, wantErr: EnvPollInterval},
		{name: "bad wait", env: map[string]string{EnvSDKKeyParameter: "/p/key", EnvStartWait: "1s"}, wantErr: EnvStartWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SettingsFromEnv(env(tt.env))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("SettingsFromEnv = %v; want an error naming %q", err, tt.wantErr)
			}
		})
	}
}

// TestSetupNeverFailsTheColdStart: no SDK key (SSM refuses) → Fallback, logged, serving v1.
func TestSetupNeverFailsTheColdStart(t *testing.T) {
	log, logs := captureLog()
	s := Settings{Source: Polling, SDKKeyParameter: "/pricing/sdk-key"}
	ev, closeFn := Setup(context.Background(), s, Clients{SSM: fakeSSM{err: errors.New("AccessDeniedException")}}, log)
	defer closeFn()
	if e, reason := ev.Evaluate(context.Background(), User{Key: "u", Plan: "beta"}); e != pricing.V1 || reason != "NO_SDK_KEY" {
		t.Errorf("Evaluate = %s, %s; want v1, NO_SDK_KEY", e, reason)
	}
	if !strings.Contains(logs.String(), "feature flags disabled") || !strings.Contains(logs.String(), "/pricing/sdk-key") {
		t.Errorf("log does not say why:\n%s", logs)
	}
}

func TestSetupFile(t *testing.T) {
	log, _ := captureLog()
	ev, closeFn := Setup(context.Background(), Settings{Source: File, FlagsFile: committedFlags, StartWait: 5 * time.Second}, Clients{}, log)
	defer closeFn()
	if e, _ := ev.Evaluate(context.Background(), User{Key: "u", Plan: "beta"}); e != pricing.V2 {
		t.Errorf("beta user got %s from the committed file; want v2", e)
	}
}
