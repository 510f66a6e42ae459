package flags

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

// Evaluator is what a handler needs from the flags: a decision per user, and a flush at the end
// of an invocation that made one (*LaunchDarkly, Fallback).
type Evaluator interface {
	Evaluate(ctx context.Context, u User) (pricing.Engine, Reason)
	Flush(ctx context.Context)
}

// Settings is a function's flag configuration, from its environment.
type Settings struct {
	Source          Source
	FlagsFile       string
	SDKKeyParameter string
	StartWait       time.Duration
	PollInterval    time.Duration
	DynamoTable     string
	DynamoPrefix    string
}

// Environment variables SettingsFromEnv reads.
const (
	EnvSource          = "FLAG_SOURCE"              // polling (default), daemon or file
	EnvFlagsFile       = "FLAGS_FILE"               // file: the flags file
	EnvSDKKeyParameter = "LD_SDK_KEY_PARAMETER"     // polling, daemon: SSM SecureString holding the SDK key
	EnvStartWait       = "LD_START_WAIT_MS"         // bound on the cold start's wait for flag data (default 1000)
	EnvPollInterval    = "LD_POLL_INTERVAL_SECONDS" // polling: how often (default and minimum 30)
	EnvDynamoTable     = "LD_DYNAMODB_TABLE"        // daemon: the Relay Proxy's table
	EnvDynamoPrefix    = "LD_DYNAMODB_PREFIX"       // daemon: the Relay Proxy's key prefix, if any
)

// SettingsFromEnv reads Settings. A missing or contradictory setting is an error: that is a
// deployment mistake, and failing the cold start shows it at once. LaunchDarkly being
// unreachable is not, and Setup never fails for it.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		FlagsFile: getenv(EnvFlagsFile), SDKKeyParameter: getenv(EnvSDKKeyParameter),
		DynamoTable: getenv(EnvDynamoTable), DynamoPrefix: getenv(EnvDynamoPrefix),
		StartWait: time.Second, PollInterval: 30 * time.Second,
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

// Clients are the AWS clients Setup may need: SSM for the SDK key, DynamoDB in daemon mode.
type Clients struct {
	SSM      ParameterGetter
	DynamoDB *dynamodb.Client
}

// ssmTimeout bounds the cold start's read of the SDK key.
const ssmTimeout = 3 * time.Second

// flushTimeout bounds the end-of-invocation flush of analytics events.
const flushTimeout = time.Second

// Setup builds the evaluator for a function at cold start. It never fails: when the SDK key
// cannot be read or the client cannot be built, it logs why at ERROR and returns Fallback (v1
// for everyone) so the function serves. The returned close function is for SIGTERM.
func Setup(ctx context.Context, s Settings, c Clients, log *slog.Logger) (Evaluator, func()) {
	cfg := Config{
		Source: s.Source, FlagsFile: s.FlagsFile, StartWait: s.StartWait, PollInterval: s.PollInterval,
		DynamoDB: c.DynamoDB, DynamoTable: s.DynamoTable, DynamoPrefix: s.DynamoPrefix,
		FlushTimeout: flushTimeout, FlushBackoff: DefaultFlushBackoff, Now: time.Now, Log: log,
	}
	if s.Source != File {
		ctx, cancel := context.WithTimeout(ctx, ssmTimeout)
		defer cancel()
		key, err := ReadSDKKey(ctx, c.SSM, s.SDKKeyParameter)
		if err != nil {
			log.Error("feature flags disabled: serving the fallback engine", "flag", FlagKey, "fallback", string(pricing.V1), "error", err.Error())
			return Fallback{Reason: "NO_SDK_KEY", Log: log}, func() {}
		}
		cfg.SDKKey = key
	}
	ld, err := Open(cfg)
	if err != nil {
		log.Error("feature flags disabled: serving the fallback engine", "flag", FlagKey, "fallback", string(pricing.V1), "error", err.Error())
		return Fallback{Reason: "NO_CLIENT", Log: log}, func() {}
	}
	return ld, func() {
		if err := ld.Close(); err != nil {
			log.Warn("closing the flag client", "error", err.Error())
		}
	}
}
