package launchdarkly

import (
	"strings"
	"testing"
	"time"
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

// TestSettingsDefaults: the first requests wait 200 ms at most for flag data unless told
// otherwise, and polling is as rare as LaunchDarkly allows.
func TestSettingsDefaults(t *testing.T) {
	s, err := SettingsFromEnv(env(map[string]string{EnvSDKKeyParameter: "/p/key"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != Polling || s.StartWait != 200*time.Millisecond || s.PollInterval != 30*time.Second {
		t.Errorf("defaults: source %s, start wait %v, poll interval %v; want polling, 200ms, 30s", s.Source, s.StartWait, s.PollInterval)
	}
}
