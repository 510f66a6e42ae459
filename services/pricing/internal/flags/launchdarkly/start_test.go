package launchdarkly

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/launchdarkly/go-server-sdk/v7/interfaces"

	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/pricing"
)

// TestStartNeverFailsTheColdStart: no SDK key (SSM refuses) → v1 with the reason, logged with the
// parameter's name.
func TestStartNeverFailsTheColdStart(t *testing.T) {
	log, logs := captureLog()
	s := Settings{Source: Polling, SDKKeyParameter: "/pricing/sdk-key", StartWait: 5 * time.Second}
	ev := Start(s, Clients{SSM: fakeSSM{err: errors.New("AccessDeniedException")}}, log)
	defer ev.Close()
	// StartWait is long enough for the refusal to arrive first: the request is told why.
	if e, reason := ev.Evaluate(context.Background(), flags.User{Key: "u", Plan: "beta"}); e != pricing.V1 || reason != "NO_SDK_KEY" {
		t.Errorf("Evaluate = %s, %s; want v1, NO_SDK_KEY", e, reason)
	}
	if !strings.Contains(logs.String(), "feature flags disabled") || !strings.Contains(logs.String(), "/pricing/sdk-key") {
		t.Errorf("log does not say why:\n%s", logs)
	}
}

func TestStartFile(t *testing.T) {
	log, _ := captureLog()
	ev := Start(Settings{Source: File, FlagsFile: committedFlags, StartWait: 5 * time.Second}, Clients{}, log)
	defer ev.Close()
	if e, _ := ev.Evaluate(context.Background(), flags.User{Key: "u", Plan: "beta"}); e != pricing.V2 {
		t.Errorf("beta user got %s from the committed file; want v2", e)
	}
}

// TestStartServesBeforeTheKeyArrives: Start returns while the SDK key is still being read (an
// SSM that answers only when the test says so), the requests meanwhile get v1 with
// CLIENT_NOT_READY and a WARN line, and once the key arrives the client polls and the flags
// decide.
func TestStartServesBeforeTheKeyArrives(t *testing.T) {
	const secret = "sdk-held-back"
	release := make(chan struct{})
	ld := flagServer(t, secret)
	log, logs := captureLog()
	ev := Start(Settings{
		Source: Polling, SDKKeyParameter: "/pricing/sdk-key", PollInterval: 30 * time.Second,
		StartWait: 0, // requests never wait: the first is served before the key arrives
		Endpoints: interfaces.ServiceEndpoints{Polling: ld.URL, Streaming: ld.URL, Events: ld.URL},
	}, Clients{SSM: heldSSM{value: secret + "\n", release: release}}, log)
	defer ev.Close()

	beta := flags.User{Key: "u-beta", Plan: "beta"}
	if e, reason := ev.Evaluate(context.Background(), beta); e != pricing.V1 || reason != flags.ReasonNotReady {
		t.Fatalf("first request: %s, %s; want v1, %s", e, reason, flags.ReasonNotReady)
	}
	if !strings.Contains(logs.String(), "feature flags not ready") {
		t.Errorf("no WARN line for the fallback:\n%s", logs)
	}
	close(release)
	if !eventually(func() bool { e, _ := ev.Evaluate(context.Background(), beta); return e == pricing.V2 }) {
		t.Fatalf("the beta user still gets v1 after the key arrived:\n%s", logs)
	}
	if _, reason := ev.Evaluate(context.Background(), beta); !strings.HasPrefix(string(reason), "RULE_MATCH") {
		t.Errorf("reason %s; want the targeting rule's", reason)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the SDK key appears in the log:\n%s", logs)
	}
}

// heldSSM answers GetSecureString with value once release is closed, or fails when the caller gives
// up first.
type heldSSM struct {
	value   string
	release <-chan struct{}
}

func (h heldSSM) GetSecureString(ctx context.Context, name string) (string, error) {
	select {
	case <-h.release:
		return fakeSSM{value: h.value}.GetSecureString(ctx, name)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// flagServer is LaunchDarkly's polling and events service for the committed flags, answering
// only requests authorised with key.
func flagServer(t *testing.T, key string) *httptest.Server {
	t.Helper()
	data, err := os.ReadFile(committedFlags)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != key {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/sdk/") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(data)
			return
		}
		w.WriteHeader(http.StatusAccepted) // analytics events
	}))
	t.Cleanup(srv.Close)
	return srv
}
