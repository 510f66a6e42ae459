package jwt

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Token("user-1", "client-a", map[string]any{"plan": "beta", "scope": "jobs/read"}, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	v := testVerifier(iss)
	v.Audiences = []string{"client-a"}
	claims, err := v.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := map[string]any{
		"iss":       LocalIssuer,
		"sub":       "user-1",
		"aud":       "client-a",
		"client_id": "client-a",
		"token_use": "access",
		"iat":       json.Number(fmt.Sprint(testNow.Unix())),
		"exp":       json.Number(fmt.Sprint(testNow.Add(time.Hour).Unix())),
		"plan":      "beta",
		"scope":     "jobs/read",
	}
	for name, value := range want {
		if got := claims[name]; got != value {
			t.Errorf("claim %s: got %#v, want %#v", name, got, value)
		}
	}
	if _, ok := claims["nbf"]; ok {
		t.Errorf("claim nbf: got %v, want none (Cognito sets no nbf)", claims["nbf"])
	}
	jti, _ := claims["jti"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(jti) {
		t.Errorf("jti: got %q, want a version 4 UUID", jti)
	}
	if len(claims) != len(want)+1 {
		t.Errorf("claims: got %v, want exactly %v and jti", claims, want)
	}

	again, err := iss.Token("user-1", "client-a", nil, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	claimsAgain, err := v.Verify(again)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claimsAgain["jti"] == claims["jti"] {
		t.Errorf("jti: got %v twice, want a new one per token", jti)
	}
}

func TestTokenHeader(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Token("user-1", LocalAudience, nil, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var header map[string]string
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatalf("parse header: %v", err)
	}
	want := map[string]string{"alg": "RS256", "typ": "JWT", "kid": iss.KeyID()}
	if len(header) != len(want) {
		t.Errorf("header: got %v, want %v", header, want)
	}
	for k, v := range want {
		if header[k] != v {
			t.Errorf("header %s: got %q, want %q", k, header[k], v)
		}
	}
}

func TestTokenRefuses(t *testing.T) {
	iss := newTestIssuer(t)
	tests := []struct {
		name     string
		sub, aud string
		extra    map[string]any
		ttl      time.Duration
	}{
		{name: "empty subject", aud: LocalAudience, ttl: time.Hour},
		{name: "empty audience", sub: "user-1", ttl: time.Hour},
		{name: "zero ttl", sub: "user-1", aud: LocalAudience},
		{name: "negative ttl", sub: "user-1", aud: LocalAudience, ttl: -time.Hour},
	}
	for _, name := range []string{"iss", "sub", "aud", "client_id", "token_use", "iat", "nbf", "exp", "jti"} {
		tests = append(tests, struct {
			name     string
			sub, aud string
			extra    map[string]any
			ttl      time.Duration
		}{name: "extra " + name, sub: "user-1", aud: LocalAudience, extra: map[string]any{name: "x"}, ttl: time.Hour})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := iss.Token(tt.sub, tt.aud, tt.extra, tt.ttl, testNow)
			if err == nil {
				t.Errorf("Token: got %q and no error, want an error", token)
			}
		})
	}
}

func TestLoadOrCreateIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local-jwt")
	keyPath := filepath.Join(dir, "key.pem")

	first, err := LoadOrCreateIssuer(keyPath, LocalIssuer)
	if err != nil {
		t.Fatalf("LoadOrCreateIssuer (create): %v", err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, keyPath: 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("mode of %s: got %v, want %v", path, got, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	if len(entries) != 1 {
		t.Errorf("files in key dir: got %d, want 1 (no temporary file left behind)", len(entries))
	}
	token, err := first.Token("user-1", LocalAudience, nil, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}

	reloaded, err := LoadOrCreateIssuer(keyPath, LocalIssuer)
	if err != nil {
		t.Fatalf("LoadOrCreateIssuer (load): %v", err)
	}
	if got, want := reloaded.KeyID(), first.KeyID(); got != want {
		t.Errorf("kid after reload: got %q, want %q", got, want)
	}
	if _, err := testVerifier(reloaded).Verify(token); err != nil {
		t.Errorf("Verify a token from before the reload: got %v, want no error", err)
	}
}

func TestLoadOrCreateIssuerConcurrently(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	const n = 4
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			iss, err := LoadOrCreateIssuer(keyPath, LocalIssuer)
			errs[i] = err
			if err == nil {
				kids[i] = iss.KeyID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreateIssuer %d: %v", i, errs[i])
		}
		if kids[i] != kids[0] {
			t.Errorf("kid %d: got %q, want %q like the first: all callers must share one key", i, kids[i], kids[0])
		}
	}
}

func TestLoadOrCreateIssuerRejectsBadKeyFile(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{name: "not PEM", data: "hello"},
		{name: "wrong block", data: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
		{name: "corrupt key", data: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyPath := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(keyPath, []byte(tt.data), 0o600); err != nil {
				t.Fatalf("write: %v", err)
			}
			if _, err := LoadOrCreateIssuer(keyPath, LocalIssuer); err == nil {
				t.Errorf("LoadOrCreateIssuer: got no error, want one (and the file left alone)")
			}
			data, err := os.ReadFile(keyPath)
			if err != nil || string(data) != tt.data {
				t.Errorf("key file: got %q (%v), want it unchanged", data, err)
			}
		})
	}
}

func TestJWKSVerifiesTokens(t *testing.T) {
	iss := newTestIssuer(t)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys: got %d, want 1", len(set.Keys))
	}
	for name, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": iss.KeyID(), "e": "AQAB"} {
		if got := set.Keys[0][name]; got != want {
			t.Errorf("jwk %s: got %q, want %q", name, got, want)
		}
	}

	keys, err := ParseJWKS(iss.JWKS())
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	v := testVerifier(iss)
	v.Keys = func() map[string]*rsa.PublicKey { return keys }
	token, err := iss.Token("user-1", LocalAudience, nil, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if _, err := v.Verify(token); err != nil {
		t.Errorf("Verify with keys from the JWKS: got %v, want no error", err)
	}
}

func TestHandler(t *testing.T) {
	iss := newTestIssuer(t)
	srv := httptest.NewServer(iss.Handler())
	t.Cleanup(srv.Close)

	get := func(t *testing.T, method, path string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatalf("new request: %v", err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read body: %v", err)
		}
		return resp.StatusCode, body
	}

	status, body := get(t, http.MethodGet, "/local-issuer/.well-known/jwks.json")
	if status != http.StatusOK || string(body) != string(iss.JWKS()) {
		t.Errorf("GET jwks.json: got %d %s, want 200 %s", status, body, iss.JWKS())
	}

	status, body = get(t, http.MethodGet, "/local-issuer/.well-known/openid-configuration")
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); status != http.StatusOK || err != nil {
		t.Fatalf("GET openid-configuration: got %d %s (%v), want 200 JSON", status, body, err)
	}
	if doc.Issuer != LocalIssuer {
		t.Errorf("issuer: got %q, want %q", doc.Issuer, LocalIssuer)
	}
	if want := srv.URL + "/local-issuer/.well-known/jwks.json"; doc.JWKSURI != want {
		t.Errorf("jwks_uri: got %q, want %q", doc.JWKSURI, want)
	}
	status, body = get(t, http.MethodGet, strings.TrimPrefix(doc.JWKSURI, srv.URL))
	if status != http.StatusOK || string(body) != string(iss.JWKS()) {
		t.Errorf("GET jwks_uri: got %d %s, want 200 and the key set", status, body)
	}

	if status, _ := get(t, http.MethodPost, "/.well-known/jwks.json"); status != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks.json: got %d, want %d", status, http.StatusMethodNotAllowed)
	}
	if status, _ := get(t, http.MethodGet, "/.well-known/other"); status != http.StatusNotFound {
		t.Errorf("GET other: got %d, want %d", status, http.StatusNotFound)
	}
}
