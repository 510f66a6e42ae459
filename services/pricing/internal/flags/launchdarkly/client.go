package launchdarkly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldlog"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	lddynamodb "github.com/launchdarkly/go-server-sdk-dynamodb/v4"
	ld "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/ldfiledata"
	"github.com/launchdarkly/go-server-sdk/v7/ldfilewatch"

	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/budget"
)

// Config says how to build a Client.
type Config struct {
	Source Source
	// SDKKey authenticates polling and daemon mode (daemon mode sends analytics events with it);
	// the file source needs none.
	SDKKey SDKKey
	// FlagsFile is the file the File source reads, and re-reads whenever it changes.
	FlagsFile string
	// StartWait bounds how long Open waits for flag data. After it the client serves fallbacks
	// and keeps trying in the background; the cold start goes on.
	StartWait time.Duration
	// PollInterval is how often the Polling source asks again; LaunchDarkly's minimum is 30 s.
	PollInterval time.Duration
	// DynamoDB, DynamoTable and DynamoPrefix locate the Relay Proxy's store in daemon mode.
	DynamoDB     *dynamodb.Client
	DynamoTable  string
	DynamoPrefix string
	// ServiceEndpoints overrides LaunchDarkly's URIs: a Relay Proxy in proxy mode, or a test
	// server. Zero means LaunchDarkly's own.
	ServiceEndpoints interfaces.ServiceEndpoints
	// FlushTimeout bounds FlushAndWait at the end of an invocation (and by the invocation's time).
	FlushTimeout time.Duration
	// FlushBackoff is how long, after a FlushAndWait that did not finish, Flush only starts a
	// delivery instead of waiting for it. Zero means DefaultFlushBackoff.
	FlushBackoff time.Duration
	// Now tells the time for the flush back-off. Nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// DefaultFlushBackoff is the flush back-off when Config.FlushBackoff is zero: long enough that
// an unreachable events endpoint costs one invocation its FlushTimeout, not every invocation.
const DefaultFlushBackoff = 30 * time.Second

// eventFlusher is the part of *ld.LDClient that delivers analytics events; tests wrap it to
// count the calls.
type eventFlusher interface {
	Flush()
	FlushAndWait(timeout time.Duration) bool
}

// Client evaluates the pricing flag with a LaunchDarkly SDK client.
type Client struct {
	client       *ld.LDClient
	events       eventFlusher
	source       Source
	flushTimeout time.Duration
	flushBackoff time.Duration
	now          func() time.Time
	log          *slog.Logger

	mu sync.Mutex
	// backoffUntil is when Flush may wait for delivery again after a FlushAndWait timed out.
	backoffUntil time.Time
}

// Open builds the client and waits at most cfg.StartWait for flag data. A client that did not
// get its data in time, or was refused (a wrong key), is still returned, with a WARN line saying
// so: it serves the fallback until data arrives. The error is for a client that could not be
// built at all (a bad configuration); Start then serves flags.Fallback.
func Open(cfg Config) (*Client, error) {
	ldCfg := ld.Config{
		Logging:          ldcomponents.Logging().Loggers(sdkLoggers(cfg.Log)),
		ServiceEndpoints: cfg.ServiceEndpoints,
	}
	key := string(cfg.SDKKey)
	switch cfg.Source {
	case Polling:
		if key == "" {
			return nil, errors.New("open launchdarkly client: polling needs an SDK key")
		}
		ldCfg.DataSource = ldcomponents.PollingDataSource().PollInterval(cfg.PollInterval)
	case Daemon:
		if cfg.DynamoDB == nil || cfg.DynamoTable == "" {
			return nil, errors.New("open launchdarkly client: daemon mode needs a DynamoDB client and table")
		}
		ldCfg.DataSource = ldcomponents.ExternalUpdatesOnly()
		ldCfg.DataStore = ldcomponents.PersistentDataStore(
			lddynamodb.DataStore(cfg.DynamoTable).Prefix(cfg.DynamoPrefix).DynamoClient(cfg.DynamoDB),
		)
	case File:
		if cfg.FlagsFile == "" {
			return nil, errors.New("open launchdarkly client: the file source needs a flags file")
		}
		// The watcher re-reads the file when it changes, so editing it changes behaviour in a
		// running local stack. There is no LaunchDarkly to send events to.
		ldCfg.DataSource = ldfiledata.DataSource().FilePaths(cfg.FlagsFile).Reloader(ldfilewatch.WatchFiles)
		ldCfg.Events = ldcomponents.NoEvents()
	default:
		return nil, fmt.Errorf("open launchdarkly client: unknown flag source %q", cfg.Source)
	}

	return start(key, ldCfg, cfg)
}

// start builds the client from a finished SDK configuration (tests pass one with ldtestdata).
func start(key string, ldCfg ld.Config, cfg Config) (*Client, error) {
	client, err := ld.MakeCustomClient(key, ldCfg, cfg.StartWait)
	if client == nil {
		return nil, fmt.Errorf("open launchdarkly client (%s): %w", cfg.Source, err)
	}
	l := &Client{
		client: client, events: client, source: cfg.Source,
		flushTimeout: cfg.FlushTimeout, flushBackoff: cfg.FlushBackoff, now: cfg.Now, log: cfg.Log,
	}
	if l.flushBackoff <= 0 {
		l.flushBackoff = DefaultFlushBackoff
	}
	if l.now == nil {
		l.now = time.Now
	}
	switch {
	case err != nil:
		// ErrInitializationTimeout (unreachable) or ErrInitializationFailed (key refused):
		// serve v1 now; the SDK keeps trying in the background.
		cfg.Log.Warn("feature flags not ready: serving the fallback engine until they are",
			"flag", flags.FlagKey, "source", string(cfg.Source), "fallback", string(pricing.V1), "error", err.Error())
	case !l.Ready():
		cfg.Log.Warn("feature flag store not available: serving the fallback engine until it is",
			"flag", flags.FlagKey, "source", string(cfg.Source), "fallback", string(pricing.V1))
	default:
		cfg.Log.Info("feature flags ready", "flag", flags.FlagKey, "source", string(cfg.Source))
	}
	return l, nil
}

// Ready reports whether the client has flag data to evaluate with. In daemon mode the SDK calls
// itself initialised at once, so readiness is the DynamoDB store's status instead.
func (l *Client) Ready() bool {
	if l.source == Daemon {
		return l.client.GetDataStoreStatusProvider().GetStatus().Available
	}
	return l.client.Initialized()
}

// Evaluate returns the engine the flag serves u, and why. Anything but a valid engine name
// (flag missing, client not ready, a variation this build does not know) gives v1, and a WARN
// line naming the reason: a fallback is worth seeing in the logs, a normal decision is not.
func (l *Client) Evaluate(ctx context.Context, u flags.User) (pricing.Engine, flags.Reason) {
	value, detail, _ := l.client.StringVariationDetailCtx(ctx, flags.FlagKey, UserContext(u), string(pricing.V1))
	reason := flags.Reason(detail.Reason.String())
	if detail.Reason.GetKind() == ldreason.EvalReasonError {
		l.log.WarnContext(ctx, "feature flag fell back to the default engine",
			"flag", flags.FlagKey, "engine", string(pricing.V1), "reason", string(reason))
		return pricing.V1, reason
	}
	engine, ok := pricing.ParseEngine(value)
	if !ok {
		l.log.WarnContext(ctx, "feature flag served an unknown engine: using the default",
			"flag", flags.FlagKey, "variation", value, "engine", string(pricing.V1))
		return pricing.V1, flags.Reason("UNKNOWN_VARIATION(" + value + ")")
	}
	return engine, reason
}

// Flush delivers the analytics events of this invocation before Lambda freezes the
// environment. Call it only after evaluating: with nothing queued, FlushAndWait waits its whole
// timeout. It waits at most FlushTimeout, and never past the invocation's deadline.
//
// A client without flag data flushes nothing: its evaluations were fallbacks, and whatever kept
// the data from arriving (LaunchDarkly unreachable) would make the flush wait its whole timeout
// too. After a FlushAndWait that did not finish, Flush only starts a delivery, without waiting,
// for FlushBackoff: an unreachable events endpoint then costs one request its FlushTimeout, not
// every request.
func (l *Client) Flush(ctx context.Context) {
	if !l.Ready() {
		return
	}
	now := l.now()
	l.mu.Lock()
	backingOff := now.Before(l.backoffUntil)
	l.mu.Unlock()
	if backingOff {
		l.events.Flush()
		return
	}
	timeout := l.flushTimeout
	if left := (budget.Budget{Margin: 100 * time.Millisecond}).Remaining(ctx); left < timeout {
		timeout = left
	}
	if timeout <= 0 {
		return
	}
	if l.events.FlushAndWait(timeout) {
		return
	}
	l.mu.Lock()
	l.backoffUntil = l.now().Add(l.flushBackoff)
	l.mu.Unlock()
	l.log.WarnContext(ctx, "analytics events not delivered before the flush timeout: not waiting for delivery during the back-off",
		"timeout", timeout.String(), "backoff", l.flushBackoff.String())
}

// Close stops the client, delivering what events remain.
func (l *Client) Close() error {
	if err := l.client.Close(); err != nil {
		return fmt.Errorf("close launchdarkly client: %w", err)
	}
	return nil
}

// UserContext is the LaunchDarkly context for u: kind "user", key the JWT subject, and plan and
// region as attributes for targeting rules. Empty attributes are left out rather than matched
// as "".
func UserContext(u flags.User) ldcontext.Context {
	b := ldcontext.NewBuilder(u.Key)
	if u.Plan != "" {
		b.SetString("plan", u.Plan)
	}
	if u.Region != "" {
		b.SetString("region", u.Region)
	}
	return b.Build()
}

// sdkLoggers sends the SDK's own log lines to log, at their levels, tagged component=launchdarkly.
func sdkLoggers(log *slog.Logger) ldlog.Loggers {
	var loggers ldlog.Loggers
	log = log.With("component", "launchdarkly")
	for ldLevel, level := range map[ldlog.LogLevel]slog.Level{
		ldlog.Debug: slog.LevelDebug, ldlog.Info: slog.LevelInfo, ldlog.Warn: slog.LevelWarn, ldlog.Error: slog.LevelError,
	} {
		loggers.SetBaseLoggerForLevel(ldLevel, sdkLogger{log: log, level: level})
	}
	return loggers
}

// sdkLogger is an ldlog.BaseLogger writing to slog at one level.
type sdkLogger struct {
	log   *slog.Logger
	level slog.Level
}

func (s sdkLogger) Println(values ...any) {
	s.log.Log(context.Background(), s.level, strings.TrimSpace(strings.TrimSuffix(fmt.Sprintln(values...), "\n")))
}

func (s sdkLogger) Printf(format string, values ...any) {
	s.log.Log(context.Background(), s.level, strings.TrimSpace(fmt.Sprintf(format, values...)))
}
