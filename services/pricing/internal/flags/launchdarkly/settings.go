package launchdarkly

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
)

// Source is where a client's flag data comes from.
type Source string

// The data sources, chosen by the FLAG_SOURCE setting.
const (
	// Polling asks LaunchDarkly for all flags at start and every PollInterval (30 s at least).
	Polling Source = "polling"
	// Daemon reads flags from a DynamoDB table that a LaunchDarkly Relay Proxy keeps up to date.
	Daemon Source = "daemon"
	// File reads flags from a local JSON or YAML file and re-reads it when it changes.
	File Source = "file"
)

// ParseSource returns the source named s.
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case Polling, Daemon, File:
		return Source(s), nil
	}
	return "", fmt.Errorf("flag source %q: want polling, daemon or file", s)
}

// SDKKey is a LaunchDarkly server-side SDK key. It is a type of its own so that it cannot be
// logged by accident: slog and fmt print it as [redacted].
type SDKKey string

// LogValue keeps the key out of structured logs.
func (SDKKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the key out of fmt output.
func (SDKKey) String() string { return "[redacted]" }

// GoString keeps the key out of %#v output.
func (SDKKey) GoString() string { return "[redacted]" }

// Settings is a function's flag configuration, from its environment.
type Settings struct {
	Source          Source
	FlagsFile       string
	SDKKeyParameter string
	// StartWait bounds how long requests wait for flag data after the cold start began (see
	// flags.AsyncConfig.Wait); the cold start itself never waits.
	StartWait    time.Duration
	PollInterval time.Duration
	DynamoTable  string
	DynamoPrefix string
	// Endpoints overrides LaunchDarkly's URIs (a Relay Proxy in proxy mode, a test server).
	// SettingsFromEnv leaves it zero: LaunchDarkly's own.
	Endpoints interfaces.ServiceEndpoints
}

// DefaultStartWait is Settings.StartWait unless LD_START_WAIT_MS says otherwise: long enough
// for an SSM read and a LaunchDarkly poll on a cold start (tens of milliseconds each in a
// region), short enough that a cold start's first request pays at most that when either hangs.
const DefaultStartWait = 200 * time.Millisecond

// Environment variables SettingsFromEnv reads.
const (
	EnvSource          = "FLAG_SOURCE"              // polling (default), daemon or file
	EnvFlagsFile       = "FLAGS_FILE"               // file: the flags file
	EnvSDKKeyParameter = "LD_SDK_KEY_PARAMETER"     // polling, daemon: SSM SecureString holding the SDK key
	EnvStartWait       = "LD_START_WAIT_MS"         // bound on the first requests' wait for flag data (default 200)
	EnvPollInterval    = "LD_POLL_INTERVAL_SECONDS" // polling: how often (default and minimum 30)
	EnvDynamoTable     = "LD_DYNAMODB_TABLE"        // daemon: the Relay Proxy's table
	EnvDynamoPrefix    = "LD_DYNAMODB_PREFIX"       // daemon: the Relay Proxy's key prefix, if any
)

// SettingsFromEnv reads Settings. A missing or contradictory setting is an error: that is a
// deployment mistake, and failing the cold start shows it at once. LaunchDarkly being
// unreachable is not, and Start never fails for it.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		FlagsFile: getenv(EnvFlagsFile), SDKKeyParameter: getenv(EnvSDKKeyParameter),
		DynamoTable: getenv(EnvDynamoTable), DynamoPrefix: getenv(EnvDynamoPrefix),
		StartWait: DefaultStartWait, PollInterval: 30 * time.Second,
	}
	source := getenv(EnvSource)
	if source == "" {
		source = string(Polling)
	}
	var err error
	if s.Source, err = ParseSource(source); err != nil {
		return Settings{}, err
	}
	if v := getenv(EnvStartWait); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return Settings{}, fmt.Errorf("%s=%q: want milliseconds", EnvStartWait, v)
		}
		s.StartWait = time.Duration(ms) * time.Millisecond
	}
	if v := getenv(EnvPollInterval); v != "" {
		sec, err := strconv.Atoi(v)
		if err != nil || sec < 30 {
			return Settings{}, fmt.Errorf("%s=%q: want seconds, at least 30", EnvPollInterval, v)
		}
		s.PollInterval = time.Duration(sec) * time.Second
	}
	switch {
	case s.Source == File && s.FlagsFile == "":
		return Settings{}, fmt.Errorf("%s=file needs %s", EnvSource, EnvFlagsFile)
	case s.Source != File && s.SDKKeyParameter == "":
		return Settings{}, fmt.Errorf("%s=%s needs %s", EnvSource, s.Source, EnvSDKKeyParameter)
	case s.Source == Daemon && s.DynamoTable == "":
		return Settings{}, fmt.Errorf("%s=daemon needs %s", EnvSource, EnvDynamoTable)
	}
	return s, nil
}
