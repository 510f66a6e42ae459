package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clock() time.Time { return testNow }

// verify checks token with the key at keyPath, the way the runner would.
func verify(t *testing.T, keyPath, token string) map[string]any {
	t.Helper()
	iss, err := jwt.LoadOrCreateIssuer(keyPath, jwt.LocalIssuer)
	if err != nil {
		t.Fatalf("load key: %v", err)
	}
	v := &jwt.Verifier{Issuer: jwt.LocalIssuer, Audiences: []string{jwt.LocalAudience}, Keys: iss.PublicKeys, Now: clock}
	claims, err := v.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return claims
}

func TestRunPrintsOnlyTheToken(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-user", "alice", "-claims", `{"plan":"beta","seats":3}`, "-key", keyPath}, &stdout, &stderr, clock)
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0 (stderr %q)", code, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: got %q, want nothing", stderr.String())
	}
	out := stdout.String()
	token, ok := strings.CutSuffix(out, "\n")
	if !ok || strings.ContainsAny(token, " \n") || strings.Count(token, ".") != 2 {
		t.Fatalf("stdout: got %q, want one token and a newline", out)
	}
	claims := verify(t, keyPath, token)
	for name, want := range map[string]any{"sub": "alice", "plan": "beta", "aud": jwt.LocalAudience, "iss": jwt.LocalIssuer} {
		if got := claims[name]; got != want {
			t.Errorf("claim %s: got %v, want %v", name, got, want)
		}
	}
	if got, want := claims["seats"], any(json.Number("3")); got != want {
		t.Errorf("claim seats: got %#v, want %#v", got, want)
	}
}

func TestRunTTL(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-user", "alice", "-key", keyPath, "-ttl", "90s"}, &stdout, &stderr, clock); code != 0 {
		t.Fatalf("exit status: got %d, want 0 (stderr %q)", code, stderr.String())
	}
	claims := verify(t, keyPath, strings.TrimSpace(stdout.String()))
	if got, want := claims["exp"], any(json.Number(strconv.FormatInt(testNow.Add(90*time.Second).Unix(), 10))); got != want {
		t.Errorf("exp: got %v, want %v", got, want)
	}
}

func TestRunDefaultKeyUnderRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatalf("write go.work: %v", err)
	}
	nested := filepath.Join(root, "infra", "local")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	t.Chdir(nested)

	var stdout, stderr bytes.Buffer
	if code := run([]string{"-user", "alice"}, &stdout, &stderr, clock); code != 0 {
		t.Fatalf("exit status: got %d, want 0 (stderr %q)", code, stderr.String())
	}
	keyPath := filepath.Join(root, ".cache", "local-jwt", "key.pem")
	if _, err := os.Stat(keyPath); err != nil {
		t.Fatalf("key at %s: %v", keyPath, err)
	}
	verify(t, keyPath, strings.TrimSpace(stdout.String()))
}

func TestRunFails(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	tests := []struct {
		name string
		args []string
	}{
		{name: "no user", args: []string{"-key", keyPath}},
		{name: "claims not JSON", args: []string{"-user", "alice", "-key", keyPath, "-claims", "plan=beta"}},
		{name: "claims not an object", args: []string{"-user", "alice", "-key", keyPath, "-claims", `["plan"]`}},
		{name: "claims twice", args: []string{"-user", "alice", "-key", keyPath, "-claims", `{} {}`}},
		{name: "claims replacing sub", args: []string{"-user", "alice", "-key", keyPath, "-claims", `{"sub":"admin"}`}},
		{name: "zero ttl", args: []string{"-user", "alice", "-key", keyPath, "-ttl", "0s"}},
		{name: "unknown flag", args: []string{"-user", "alice", "-key", keyPath, "-admin"}},
		{name: "stray argument", args: []string{"-user", "alice", "-key", keyPath, "extra"}},
		{name: "key is a directory", args: []string{"-user", "alice", "-key", t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, clock)
			if code != 1 {
				t.Errorf("exit status: got %d, want 1", code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing", stdout.String())
			}
			if stderr.Len() == 0 {
				t.Errorf("stderr: got nothing, want the reason")
			}
		})
	}
}

func TestRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.work"), nil, 0o644); err != nil {
		t.Fatalf("write go.work: %v", err)
	}
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	for _, dir := range []string{root, deep} {
		got, err := repositoryRoot(dir)
		if err != nil || got != root {
			t.Errorf("repositoryRoot(%s): got %q, %v, want %q", dir, got, err, root)
		}
	}
	if got, err := repositoryRoot(filepath.Dir(root)); err == nil {
		t.Errorf("repositoryRoot above the work file: got %q, want an error", got)
	}
}
