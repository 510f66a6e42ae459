package jwt

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func newTestIssuer(t *testing.T) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	iss, err := NewIssuer(key, LocalIssuer)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return iss
}

func testVerifier(iss *Issuer) *Verifier {
	return &Verifier{
		Issuer:    LocalIssuer,
		Audiences: []string{LocalAudience},
		Keys:      iss.PublicKeys,
		Now:       func() time.Time { return testNow },
	}
}

// validClaims are the claims of a token the verifier accepts at testNow.
func validClaims() map[string]any {
	return map[string]any{
		"iss":       LocalIssuer,
		"sub":       "user-1",
		"aud":       LocalAudience,
		"client_id": LocalAudience,
		"token_use": "access",
		"iat":       testNow.Add(-time.Minute).Unix(),
		"exp":       testNow.Add(time.Hour).Unix(),
	}
}

// with returns validClaims changed by set (a nil value deletes the claim).
func with(set map[string]any) map[string]any {
	claims := validClaims()
	for k, v := range set {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	return claims
}

func encodeJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}

// signRS256 signs any header and claims with key, for tokens Issuer.Sign would not make.
func signRS256(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := encodeJSON(t, header) + "." + encodeJSON(t, claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVerify(t *testing.T) {
	iss := newTestIssuer(t)
	other := newTestIssuer(t)
	kid := iss.KeyID()

	sign := func(claims map[string]any) string {
		t.Helper()
		token, err := iss.Sign(claims)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		return token
	}
	valid := sign(validClaims())
	segments := strings.Split(valid, ".")

	// The classic confusion attack: HS256 keyed with the issuer's public key, which anyone has.
	publicDER, err := x509.MarshalPKIXPublicKey(&iss.key.PublicKey)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER})
	hsInput := encodeJSON(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + encodeJSON(t, validClaims())
	mac := hmac.New(sha256.New, publicPEM)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name    string
		token   string
		wantErr error // nil: the token verifies
	}{
		{name: "valid", token: valid},
		{name: "aud list holding the audience", token: sign(with(map[string]any{"aud": []string{"other", LocalAudience}}))},
		{name: "client_id alone, as in a Cognito access token", token: sign(with(map[string]any{"aud": nil}))},
		{name: "no iat", token: sign(with(map[string]any{"iat": nil}))},
		{name: "expired within clock skew", token: sign(with(map[string]any{"exp": testNow.Add(-ClockSkew + time.Second).Unix()}))},
		{name: "iat ahead within clock skew", token: sign(with(map[string]any{"iat": testNow.Add(ClockSkew).Unix()}))},
		{name: "nbf passed", token: sign(with(map[string]any{"nbf": testNow.Add(-time.Second).Unix()}))},
		{name: "fractional exp", token: sign(with(map[string]any{"exp": float64(testNow.Add(time.Hour).Unix()) + 0.5}))},

		{name: "expired", token: sign(with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()})), wantErr: ErrExpired},
		{name: "expired by exactly the clock skew", token: sign(with(map[string]any{"exp": testNow.Add(-ClockSkew).Unix()})), wantErr: ErrExpired},
		{name: "no exp", token: sign(with(map[string]any{"exp": nil})), wantErr: ErrExpired},
		{name: "nbf in the future", token: sign(with(map[string]any{"nbf": testNow.Add(time.Hour).Unix()})), wantErr: ErrNotYetValid},
		{name: "iat in the future", token: sign(with(map[string]any{"iat": testNow.Add(ClockSkew + time.Second).Unix()})), wantErr: ErrNotYetValid},
		{name: "forged: other key, our kid", token: signRS256(t, other.key, map[string]any{"alg": "RS256", "kid": kid}, validClaims()), wantErr: ErrSignature},
		{name: "tampered claims", token: segments[0] + "." + encodeJSON(t, with(map[string]any{"sub": "admin"})) + "." + segments[2], wantErr: ErrSignature},
		{name: "tampered header", token: encodeJSON(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid, "x": 1}) + "." + segments[1] + "." + segments[2], wantErr: ErrSignature},
		{name: "signature of another token", token: segments[0] + "." + segments[1] + "." + strings.Split(sign(with(map[string]any{"sub": "user-2"})), ".")[2], wantErr: ErrSignature},
		{name: "alg none", token: encodeJSON(t, map[string]any{"alg": "none", "kid": kid}) + "." + segments[1] + ".", wantErr: ErrAlgorithm},
		{name: "alg none with the original signature", token: encodeJSON(t, map[string]any{"alg": "none", "kid": kid}) + "." + segments[1] + "." + segments[2], wantErr: ErrAlgorithm},
		{name: "HS256 keyed with the public key", token: hs256, wantErr: ErrAlgorithm},
		{name: "alg in the wrong case", token: signRS256(t, iss.key, map[string]any{"ALG": "RS256", "kid": kid}, validClaims()), wantErr: ErrAlgorithm},
		{name: "RS512", token: signRS256(t, iss.key, map[string]any{"alg": "RS512", "kid": kid}, validClaims()), wantErr: ErrAlgorithm},
		{name: "wrong issuer", token: sign(with(map[string]any{"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"})), wantErr: ErrIssuer},
		{name: "issuer with a trailing slash", token: sign(with(map[string]any{"iss": LocalIssuer + "/"})), wantErr: ErrIssuer},
		{name: "no issuer", token: sign(with(map[string]any{"iss": nil})), wantErr: ErrIssuer},
		{name: "wrong audience", token: sign(with(map[string]any{"aud": "other", "client_id": "other"})), wantErr: ErrAudience},
		{name: "wrong aud with the right client_id: aud decides", token: sign(with(map[string]any{"aud": "other"})), wantErr: ErrAudience},
		{name: "empty aud list", token: sign(with(map[string]any{"aud": []string{}})), wantErr: ErrAudience},
		{name: "wrong client_id, no aud", token: sign(with(map[string]any{"aud": nil, "client_id": "other"})), wantErr: ErrAudience},
		{name: "neither aud nor client_id", token: sign(with(map[string]any{"aud": nil, "client_id": nil})), wantErr: ErrAudience},
		{name: "unknown kid", token: signRS256(t, iss.key, map[string]any{"alg": "RS256", "kid": "not-a-key"}, validClaims()), wantErr: ErrUnknownKey},
		{name: "no kid", token: signRS256(t, iss.key, map[string]any{"alg": "RS256"}, validClaims()), wantErr: ErrUnknownKey},
		{name: "two segments", token: segments[0] + "." + segments[1], wantErr: ErrMalformed},
		{name: "four segments", token: valid + ".x", wantErr: ErrMalformed},
		{name: "empty", token: "", wantErr: ErrMalformed},
		{name: "header not base64url", token: "!!!." + segments[1] + "." + segments[2], wantErr: ErrMalformed},
		{name: "padded claims", token: segments[0] + "." + segments[1] + "==." + segments[2], wantErr: ErrMalformed},
		{name: "signature not base64url", token: segments[0] + "." + segments[1] + ".a+b/", wantErr: ErrMalformed},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("alg=RS256")) + "." + segments[1] + "." + segments[2], wantErr: ErrMalformed},
		{name: "claims a JSON array", token: segments[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`["sub"]`)) + "." + segments[2], wantErr: ErrMalformed},
		{name: "exp a string", token: sign(with(map[string]any{"exp": "tomorrow"})), wantErr: ErrMalformed},
		{name: "aud a number", token: sign(with(map[string]any{"aud": 7})), wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := testVerifier(iss).Verify(tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: got error %v, want none", err)
				}
				if got, want := claims["sub"], any("user-1"); got != want {
					t.Errorf("sub: got %v, want %v", got, want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: got error %v, want %v", err, tt.wantErr)
			}
			if claims != nil {
				t.Errorf("claims: got %v, want nil with an error", claims)
			}
		})
	}
}

func TestVerifyWrapsExactlyOneReason(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Sign(with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()}))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	_, err = testVerifier(iss).Verify(token)
	reasons := []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrScope}
	var matched []error
	for _, r := range reasons {
		if errors.Is(err, r) {
			matched = append(matched, r)
		}
	}
	if len(matched) != 1 || matched[0] != ErrExpired {
		t.Errorf("reasons matched: got %v, want only %v", matched, ErrExpired)
	}
}

func TestVerifyNumbersKeepTheirText(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Sign(with(map[string]any{"account": json.Number("12345678901234567890")}))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	claims, err := testVerifier(iss).Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, want := claims["account"], any(json.Number("12345678901234567890")); got != want {
		t.Errorf("account: got %#v, want %#v", got, want)
	}
}

func TestVerifyRejectsIncompleteVerifier(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Token("user-1", LocalAudience, nil, time.Hour, time.Now())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	tests := []struct {
		name string
		v    Verifier
	}{
		{name: "no issuer", v: Verifier{Audiences: []string{LocalAudience}, Keys: iss.PublicKeys}},
		{name: "no audiences", v: Verifier{Issuer: LocalIssuer, Keys: iss.PublicKeys}},
		{name: "no keys", v: Verifier{Issuer: LocalIssuer, Audiences: []string{LocalAudience}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.v.Verify(token); err == nil {
				t.Errorf("Verify: got no error, want one")
			}
		})
	}
}

func TestVerifierDefaultsToWallClock(t *testing.T) {
	iss := newTestIssuer(t)
	v := &Verifier{Issuer: LocalIssuer, Audiences: []string{LocalAudience}, Keys: iss.PublicKeys}
	fresh, err := iss.Token("user-1", LocalAudience, nil, time.Hour, time.Now())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if _, err := v.Verify(fresh); err != nil {
		t.Errorf("Verify fresh token: got %v, want no error", err)
	}
	stale, err := iss.Token("user-1", LocalAudience, nil, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if _, err := v.Verify(stale); !errors.Is(err, ErrExpired) {
		t.Errorf("Verify stale token: got %v, want %v", err, ErrExpired)
	}
}

func TestCheckScopes(t *testing.T) {
	tests := []struct {
		name     string
		claims   map[string]any
		required []string
		wantErr  bool
	}{
		{name: "route requires none", claims: map[string]any{}, required: nil},
		{name: "one of several in scope", claims: map[string]any{"scope": "jobs/read jobs/write"}, required: []string{"admin", "jobs/write"}},
		{name: "scp list", claims: map[string]any{"scp": []any{"jobs/read"}}, required: []string{"jobs/read"}},
		{name: "scp string", claims: map[string]any{"scp": "jobs/read"}, required: []string{"jobs/read"}},
		{name: "none held", claims: map[string]any{"scope": "jobs/read"}, required: []string{"jobs/write"}, wantErr: true},
		{name: "no scope claim", claims: map[string]any{}, required: []string{"jobs/read"}, wantErr: true},
		{name: "prefix is not a match", claims: map[string]any{"scope": "jobs/readonly"}, required: []string{"jobs/read"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckScopes(tt.claims, tt.required)
			if tt.wantErr && !errors.Is(err, ErrScope) {
				t.Errorf("CheckScopes: got %v, want %v", err, ErrScope)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("CheckScopes: got %v, want no error", err)
			}
		})
	}
}
