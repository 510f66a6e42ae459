package launchdarkly

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ld "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"

	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

// committedFlags is the flags file the local stack runs with (10% rollout, beta rule).
var committedFlags = filepath.Join("..", "..", "..", "flags.json")

// logBuffer is a concurrency-safe log sink: the SDK logs from its own goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func captureLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func openFile(t *testing.T, path string) *Client {
	t.Helper()
	log, _ := captureLog()
	l, err := Open(Config{Source: File, FlagsFile: path, StartWait: 5 * time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if !l.Ready() {
		t.Fatalf("client on %s not ready", path)
	}
	return l
}

func openTestData(t *testing.T, td *ldtestdata.TestDataSource, log *slog.Logger) *Client {
	t.Helper()
	l, err := start("", ld.Config{DataSource: td, Events: ldcomponents.NoEvents()}, Config{StartWait: 5 * time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRolloutIsTenPercentAndSticky evaluates 10,000 users against the committed 10% rollout:
// about 10% get v2, each user gets the same engine on every call, and again from a new client
// (a cold start), because bucketing hashes the user key and the flag's salt, nothing else.
func TestRolloutIsTenPercentAndSticky(t *testing.T) {
	const users = 10000
	ctx := context.Background()
	first := openFile(t, committedFlags)
	got := make([]pricing.Engine, users)
	v2 := 0
	for i := range users {
		u := flags.User{Key: fmt.Sprintf("user-%05d", i), Plan: "free", Region: "eu-west-1"}
		e, reason := first.Evaluate(ctx, u)
		if reason != "FALLTHROUGH" {
			t.Fatalf("reason for %s = %s; want FALLTHROUGH (the rollout)", u.Key, reason)
		}
		if again, _ := first.Evaluate(ctx, u); again != e {
			t.Fatalf("%s got %s then %s; want the same engine on every call", u.Key, e, again)
		}
		got[i] = e
		if e == pricing.V2 {
			v2++
		}
	}
	share := float64(v2) / users
	if share < 0.085 || share > 0.115 {
		t.Errorf("v2 share = %.2f%% of %d users; want 10%% ± 1.5%%", share*100, users)
	}
	t.Logf("v2 share: %.2f%%", share*100)

	first.Close()
	cold := openFile(t, committedFlags)
	for i := range users {
		u := flags.User{Key: fmt.Sprintf("user-%05d", i), Plan: "free", Region: "us-east-1"}
		if e, _ := cold.Evaluate(ctx, u); e != got[i] {
			t.Fatalf("%s got %s before the cold start and %s after; want the same", u.Key, got[i], e)
		}
	}
}

// TestCommittedFlags pins the users the end-to-end tests rely on.
func TestCommittedFlags(t *testing.T) {
	l := openFile(t, committedFlags)
	tests := []struct {
		user   flags.User
		want   pricing.Engine
		reason flags.Reason
	}{
		{flags.User{Key: "pricing-beta-user", Plan: "beta"}, pricing.V2, "RULE_MATCH(0,beta-plan)"},
		{flags.User{Key: "pricing-v1-user", Plan: "free"}, pricing.V1, "FALLTHROUGH"},
		{flags.User{Key: "pricing-v1-user"}, pricing.V1, "FALLTHROUGH"},
	}
	for _, tt := range tests {
		if got, reason := l.Evaluate(context.Background(), tt.user); got != tt.want || reason != tt.reason {
			t.Errorf("Evaluate(%+v) = %s, %s; want %s, %s", tt.user, got, reason, tt.want, tt.reason)
		}
	}
}

// pricingFlag is the flag of the committed file, in ldtestdata form, without the rollout.
func pricingFlag(td *ldtestdata.TestDataSource) *ldtestdata.FlagBuilder {
	return td.Flag(flags.FlagKey).
		Variations(ldvalue.String("v1"), ldvalue.String("v2")).
		OffVariationIndex(0).
		FallthroughVariationIndex(0).
		IfMatch("plan", ldvalue.String("beta")).ThenReturnIndex(1)
}

func TestTargetingAndKillSwitch(t *testing.T) {
	ctx := context.Background()
	td := ldtestdata.DataSource()
	td.Update(pricingFlag(td))
	log, _ := captureLog()
	l := openTestData(t, td, log)

	beta := flags.User{Key: "u-beta", Plan: "beta", Region: "eu-west-1"}
	free := flags.User{Key: "u-free", Plan: "free"}
	if e, reason := l.Evaluate(ctx, beta); e != pricing.V2 || !strings.HasPrefix(string(reason), "RULE_MATCH") {
		t.Errorf("beta user: %s, %s; want v2 by the targeting rule", e, reason)
	}
	if e, reason := l.Evaluate(ctx, free); e != pricing.V1 || reason != "FALLTHROUGH" {
		t.Errorf("free user: %s, %s; want v1 by fallthrough", e, reason)
	}

	td.Update(pricingFlag(td).On(false))
	for _, u := range []flags.User{beta, free} {
		if e, reason := l.Evaluate(ctx, u); e != pricing.V1 || reason != "OFF" {
			t.Errorf("%s with the flag off: %s, %s; want v1, OFF (the kill switch)", u.Key, e, reason)
		}
	}
}

func TestFallbacks(t *testing.T) {
	tests := []struct {
		name       string
		flag       func(*ldtestdata.TestDataSource) *ldtestdata.FlagBuilder
		wantReason flags.Reason
	}{
		{name: "flag missing", wantReason: "ERROR(FLAG_NOT_FOUND)"},
		{
			name: "unknown variation",
			flag: func(td *ldtestdata.TestDataSource) *ldtestdata.FlagBuilder {
				return td.Flag(flags.FlagKey).ValueForAll(ldvalue.String("v3"))
			},
			wantReason: "UNKNOWN_VARIATION(v3)",
		},
		{
			name: "wrong type",
			flag: func(td *ldtestdata.TestDataSource) *ldtestdata.FlagBuilder {
				return td.Flag(flags.FlagKey).BooleanFlag().VariationForAll(true)
			},
			wantReason: "ERROR(WRONG_TYPE)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := ldtestdata.DataSource()
			if tt.flag != nil {
				td.Update(tt.flag(td))
			}
			log, logs := captureLog()
			l := openTestData(t, td, log)
			e, reason := l.Evaluate(context.Background(), flags.User{Key: "u-1", Plan: "beta"})
			if e != pricing.V1 || reason != tt.wantReason {
				t.Errorf("Evaluate = %s, %s; want v1, %s", e, reason, tt.wantReason)
			}
			if !strings.Contains(logs.String(), `"reason":"`+string(tt.wantReason)) && !strings.Contains(logs.String(), `"variation":"v3"`) {
				t.Errorf("log does not name the fallback's reason %s:\n%s", tt.wantReason, logs)
			}
		})
	}
}

// TestLaunchDarklyUnreachable starts polling against a server that never answers and an address
// that refuses connections: Open returns after the start-up wait with a client that is not
// initialised, says so in the log, and every evaluation serves v1 without an error.
func TestLaunchDarklyUnreachable(t *testing.T) {
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); silent.Close() })
	refused := closedAddress(t)

	for name, uri := range map[string]string{"never answers": silent.URL, "refuses": refused} {
		t.Run(name, func(t *testing.T) {
			log, logs := captureLog()
			l, err := Open(Config{
				Source: Polling, SDKKey: "sdk-unreachable", StartWait: 300 * time.Millisecond, PollInterval: 30 * time.Second,
				// Events go to the refusing address either way, so Close does not wait on a silent server.
				ServiceEndpoints: interfaces.ServiceEndpoints{Polling: uri, Streaming: uri, Events: refused},
				FlushTimeout:     100 * time.Millisecond,
				Log:              log,
			})
			if err != nil {
				t.Fatalf("Open = %v; want a client that serves fallbacks", err)
			}
			defer l.Close()
			if l.Ready() {
				t.Fatal("client reports ready; want not initialised")
			}
			if e, reason := l.Evaluate(context.Background(), flags.User{Key: "u-1", Plan: "beta"}); e != pricing.V1 || reason != "ERROR(CLIENT_NOT_READY)" {
				t.Errorf("Evaluate = %s, %s; want v1, ERROR(CLIENT_NOT_READY)", e, reason)
			}
			if !strings.Contains(logs.String(), "feature flags not ready") {
				t.Errorf("no WARN line about the fallback:\n%s", logs)
			}
		})
	}
}

// closedAddress is an http URL on which nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestSDKKeyFromSSM reads a key stored with a trailing newline, polls a server that accepts only
// the trimmed key, and checks that no log line ever carries the key.
func TestSDKKeyFromSSM(t *testing.T) {
	const secret = "sdk-5ec7e7-not-for-logs"
	data, err := os.ReadFile(committedFlags)
	if err != nil {
		t.Fatal(err)
	}
	var sawKey string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawKey = r.Header.Get("Authorization")
		mu.Unlock()
		if sawKey != secret {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
	}))
	defer srv.Close()

	log, logs := captureLog()
	key, err := ReadSDKKey(context.Background(), fakeSSM{value: "  " + secret + "\n"}, "/pricing/launchdarkly-sdk-key")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("sdk key read", "key", key) // the type redacts itself even when logged by mistake
	l, err := Open(Config{
		Source: Polling, SDKKey: key, StartWait: 5 * time.Second, PollInterval: 30 * time.Second,
		ServiceEndpoints: interfaces.ServiceEndpoints{Polling: srv.URL, Streaming: srv.URL, Events: closedAddress(t)},
		FlushTimeout:     100 * time.Millisecond,
		Log:              log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.Ready() {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("client not ready; the server saw Authorization %q", sawKey)
	}
	if e, _ := l.Evaluate(context.Background(), flags.User{Key: "u-1", Plan: "beta"}); e != pricing.V2 {
		t.Errorf("beta user got %s; want v2 from the polled flags", e)
	}
	if fmt.Sprint(key) != "[redacted]" || fmt.Sprintf("%#v", key) != "[redacted]" {
		t.Errorf("fmt prints the key as %v / %#v; want [redacted]", key, key)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the SDK key appears in the log:\n%s", logs)
	}
}

// TestEditingFlagsFileChangesBehaviour: the file source re-reads the file when it changes, so
// flipping the kill switch in the file takes effect without a restart.
func TestEditingFlagsFileChangesBehaviour(t *testing.T) {
	data, err := os.ReadFile(committedFlags)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l := openFile(t, path)
	beta := flags.User{Key: "u-beta", Plan: "beta"}
	if e, _ := l.Evaluate(context.Background(), beta); e != pricing.V2 {
		t.Fatalf("beta user got %s; want v2", e)
	}
	off := bytes.Replace(data, []byte(`"on": true`), []byte(`"on": false`), 1)
	if err := os.WriteFile(path, off, 0o644); err != nil {
		t.Fatal(err)
	}
	// Wait for the reason, not the engine: the watcher can read the file half-written, and a flag
	// missing from it gives v1 too (ERROR(FLAG_NOT_FOUND)) until the next reload.
	if !eventually(func() bool { _, reason := l.Evaluate(context.Background(), beta); return reason == "OFF" }) {
		e, reason := l.Evaluate(context.Background(), beta)
		t.Fatalf("the beta user gets %s, %s after the flag was switched off in the file; want v1, OFF", e, reason)
	}
	if e, _ := l.Evaluate(context.Background(), beta); e != pricing.V1 {
		t.Errorf("engine %s with the flag off; want v1", e)
	}
}

// eventually polls cond until it holds or 10 s pass: the file watcher reloads asynchronously.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestParseSource(t *testing.T) {
	for _, s := range []string{"polling", "daemon", "file"} {
		if got, err := ParseSource(s); err != nil || string(got) != s {
			t.Errorf("ParseSource(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseSource("streaming"); err == nil {
		t.Error("ParseSource(streaming) succeeded; want an error")
	}
}

// countingFlusher passes calls on to the SDK client and counts them.
type countingFlusher struct {
	inner   eventFlusher
	mu      sync.Mutex
	flushes int
	waits   int
}

func (c *countingFlusher) Flush() {
	c.mu.Lock()
	c.flushes++
	c.mu.Unlock()
	c.inner.Flush()
}

func (c *countingFlusher) FlushAndWait(timeout time.Duration) bool {
	c.mu.Lock()
	c.waits++
	c.mu.Unlock()
	return c.inner.FlushAndWait(timeout)
}

func (c *countingFlusher) counts() (flushes, waits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushes, c.waits
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventsServer counts the analytics payloads (POST /bulk) it receives.
type eventsServer struct {
	*httptest.Server
	mu   sync.Mutex
	bulk int
}

func newEventsServer(t *testing.T) *eventsServer {
	t.Helper()
	s := &eventsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bulk" {
			s.mu.Lock()
			s.bulk++
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *eventsServer) payloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulk
}

// TestNotReadyClientFlushesNothing: a client that never got flag data served fallbacks; Flush
// neither waits for nor sends their events, so an unreachable LaunchDarkly cannot hold every
// request for the flush timeout.
func TestNotReadyClientFlushesNothing(t *testing.T) {
	events := newEventsServer(t)
	refused := closedAddress(t)
	log, _ := captureLog()
	l, err := Open(Config{
		Source: Polling, SDKKey: "sdk-unreachable", StartWait: 100 * time.Millisecond, PollInterval: 30 * time.Second,
		ServiceEndpoints: interfaces.ServiceEndpoints{Polling: refused, Streaming: refused, Events: events.URL},
		FlushTimeout:     time.Second,
		Log:              log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	counter := &countingFlusher{inner: l.client}
	l.events = counter
	if l.Ready() {
		t.Fatal("client reports ready; want not initialised")
	}

	l.Evaluate(context.Background(), flags.User{Key: "u-1", Plan: "beta"})
	l.Flush(context.Background())
	if flushes, waits := counter.counts(); flushes != 0 || waits != 0 {
		t.Errorf("Flush called the SDK's Flush %d and FlushAndWait %d times; want neither", flushes, waits)
	}
	if got := events.payloads(); got != 0 {
		t.Errorf("events server got %d payloads; want none from a client that is not ready", got)
	}
}

// TestFlushBacksOffAfterATimeout: once FlushAndWait did not finish (events endpoint refusing or
// never answering), Flush only starts a delivery until the back-off has passed on the injected
// clock, then waits again; the WARN line is written once per back-off, not per request.
func TestFlushBacksOffAfterATimeout(t *testing.T) {
	tests := []struct {
		name string
		// endpoint is the events URI, and what to run before the client closes.
		endpoint func(t *testing.T) (string, func())
	}{
		{name: "never answers", endpoint: func(t *testing.T) (string, func()) {
			release := make(chan struct{})
			silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(silent.Close)
			return silent.URL, func() { close(release) }
		}},
		{name: "refuses", endpoint: func(t *testing.T) (string, func()) { return closedAddress(t), func() {} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			uri, release := tt.endpoint(t)
			td := ldtestdata.DataSource()
			td.Update(pricingFlag(td))
			log, logs := captureLog()
			clock := &fakeClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			l, err := start("sdk-test", ld.Config{
				DataSource:       td,
				DiagnosticOptOut: true,
				Logging:          ldcomponents.NoLogging(),
				ServiceEndpoints: interfaces.ServiceEndpoints{Events: uri},
			}, Config{StartWait: 5 * time.Second, FlushTimeout: 50 * time.Millisecond, FlushBackoff: 30 * time.Second, Now: clock.Now, Log: log})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			t.Cleanup(release) // runs first: Close then does not wait on a hanging request
			counter := &countingFlusher{inner: l.client}
			l.events = counter
			beta := flags.User{Key: "u-beta", Plan: "beta"}

			l.Evaluate(ctx, beta)
			l.Flush(ctx)
			if flushes, waits := counter.counts(); flushes != 0 || waits != 1 {
				t.Fatalf("first flush: Flush %d, FlushAndWait %d times; want 0, 1", flushes, waits)
			}

			clock.Advance(29 * time.Second)
			l.Evaluate(ctx, beta)
			l.Flush(ctx)
			if flushes, waits := counter.counts(); flushes != 1 || waits != 1 {
				t.Errorf("flush in the back-off: Flush %d, FlushAndWait %d times; want 1, 1 (no waiting)", flushes, waits)
			}
			if n := strings.Count(logs.String(), "analytics events not delivered"); n != 1 {
				t.Errorf("%d WARN lines about the flush; want 1 per back-off:\n%s", n, logs)
			}

			clock.Advance(2 * time.Second)
			l.Evaluate(ctx, beta)
			l.Flush(ctx)
			if flushes, waits := counter.counts(); flushes != 1 || waits != 2 {
				t.Errorf("flush after the back-off: Flush %d, FlushAndWait %d times; want 1, 2 (waiting again)", flushes, waits)
			}
		})
	}
}
