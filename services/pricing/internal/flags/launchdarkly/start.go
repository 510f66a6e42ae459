package launchdarkly

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/pricing/internal/flags"
)

// Clients are the AWS clients Start may need: SSM for the SDK key (polling and daemon), DynamoDB
// for the Relay Proxy's store (daemon). Build only the ones the source needs.
type Clients struct {
	SSM      ParameterReader
	DynamoDB *dynamodb.Client
}

// ssmTimeout bounds one read of the SDK key. It is read in the background, so the bound is on
// how soon a hung read is given up and tried again, not on anyone's wait.
const ssmTimeout = 3 * time.Second

// clientStartWait bounds how long the background start waits for the first flag data before
// handing over to the client, which then serves the fallback itself until its data arrives.
const clientStartWait = 5 * time.Second

// flushTimeout bounds the end-of-invocation flush of analytics events.
const flushTimeout = time.Second

// Start begins building the evaluator for a function and returns at once: the SDK key is read
// and the client started in the background, so a cold start waits neither for SSM nor for
// LaunchDarkly. Requests wait for flag data at most s.StartWait after the cold start, then get
// v1 until it arrives (flags.Async). It never fails: a key that cannot be read, or a client that
// cannot be built, is logged at ERROR and tried again later while v1 is served.
func Start(s Settings, c Clients, log *slog.Logger) *flags.Async {
	cfg := Config{
		Source: s.Source, FlagsFile: s.FlagsFile, StartWait: clientStartWait, PollInterval: s.PollInterval,
		DynamoDB: c.DynamoDB, DynamoTable: s.DynamoTable, DynamoPrefix: s.DynamoPrefix, ServiceEndpoints: s.Endpoints,
		FlushTimeout: flushTimeout, FlushBackoff: DefaultFlushBackoff, Now: time.Now, Log: log,
	}
	open := func(ctx context.Context) (flags.Evaluator, error) {
		cfg := cfg // an attempt's own copy: the key is set per attempt
		if s.Source != File {
			if c.SSM == nil {
				return nil, &flags.StartError{Reason: "NO_SDK_KEY", Err: errors.New("read sdk key: no SSM client")}
			}
			ctx, cancel := context.WithTimeout(ctx, ssmTimeout)
			defer cancel()
			key, err := ReadSDKKey(ctx, c.SSM, s.SDKKeyParameter)
			if err != nil {
				return nil, &flags.StartError{Reason: "NO_SDK_KEY", Err: err}
			}
			cfg.SDKKey = key
		}
		client, err := Open(cfg)
		if err != nil {
			return nil, &flags.StartError{Reason: "NO_CLIENT", Err: err}
		}
		return client, nil
	}
	return flags.StartAsync(open, flags.AsyncConfig{Wait: s.StartWait, Log: log})
}
