package jwt

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ClockSkew is how far exp, nbf and iat may be off the verifier's clock before a token is
// refused, to tolerate a token minted on a machine whose clock runs a little ahead or behind.
// API Gateway does not document an allowance; 5 s is small enough that tests of expiry
// only need tokens that expired a minute ago.
const ClockSkew = 5 * time.Second

// Reasons a token is refused. Verify wraps exactly one of them, with details, so the HTTP
// edge can log why while always answering 401 Unauthorized.
var (
	// ErrMalformed means the token is not three base64url segments of a JSON header, JSON
	// claims and a signature, or a registered claim has the wrong type.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm means the header's alg is not RS256 (alg none and HS256 included).
	ErrAlgorithm = errors.New("unsupported signing algorithm")
	// ErrUnknownKey means the header's kid is missing or names no known key.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrSignature means the signature does not match the header and claims.
	ErrSignature = errors.New("invalid signature")
	// ErrIssuer means iss is missing or is not the configured issuer.
	ErrIssuer = errors.New("wrong issuer")
	// ErrAudience means neither aud nor, when aud is absent, client_id names a configured audience.
	ErrAudience = errors.New("wrong audience")
	// ErrExpired means exp is missing or not in the future.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid means nbf or iat is in the future.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrScope means the token has none of the scopes a route requires.
	ErrScope = errors.New("missing required scope")
)

// Verifier checks tokens the way API Gateway's JWT authorizer does.
type Verifier struct {
	// Issuer is the configured issuer; a token's iss must equal it exactly.
	Issuer string
	// Audiences are the configured audiences; a token's aud, or its client_id when it has
	// no aud, must name one of them.
	Audiences []string
	// Keys returns the trusted public keys by kid (Issuer.PublicKeys, or ParseJWKS of a
	// key set). It is called once per token, so it may return keys that change.
	Keys func() map[string]*rsa.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify returns the token's claims if the authorizer would accept it, or an error wrapping
// one of the Err* values saying why not. Numbers in the claims are json.Number, so they keep
// their exact text (API Gateway hands claims to functions as strings).
func (v *Verifier) Verify(token string) (map[string]any, error) {
	if v.Issuer == "" || len(v.Audiences) == 0 || v.Keys == nil {
		return nil, errors.New("verify token: verifier needs an issuer, audiences and keys")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, len(parts))
	}
	// The header is read as a map, not a struct: encoding/json matches struct fields without
	// regard to case, and "ALG" is not "alg".
	var header map[string]any
	if err := decodeSegment(parts[0], &header); err != nil || header == nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}

	if alg, _ := header["alg"].(string); alg != "RS256" {
		return nil, fmt.Errorf("%w: alg %v", ErrAlgorithm, header["alg"])
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: no kid in header", ErrUnknownKey)
	}
	key, ok := v.Keys()[kid]
	if !ok || key == nil {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("%w: kid %q", ErrSignature, kid)
	}

	if iss, _ := claims["iss"].(string); iss != v.Issuer {
		return nil, fmt.Errorf("%w: iss %q, want %q", ErrIssuer, iss, v.Issuer)
	}
	if err := v.checkAudience(claims); err != nil {
		return nil, err
	}
	if err := v.checkTimes(claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// checkAudience applies the authorizer's rule: aud when present, client_id only when not.
func (v *Verifier) checkAudience(claims map[string]any) error {
	if aud, ok := claims["aud"]; ok {
		var auds []string
		switch aud := aud.(type) {
		case string:
			auds = []string{aud}
		case []any:
			for _, a := range aud {
				s, ok := a.(string)
				if !ok {
					return fmt.Errorf("%w: aud holds a %T", ErrMalformed, a)
				}
				auds = append(auds, s)
			}
		default:
			return fmt.Errorf("%w: aud is a %T", ErrMalformed, aud)
		}
		for _, a := range auds {
			if slices.Contains(v.Audiences, a) {
				return nil
			}
		}
		return fmt.Errorf("%w: aud %q, want one of %q", ErrAudience, auds, v.Audiences)
	}
	clientID, ok := claims["client_id"].(string)
	if !ok {
		return fmt.Errorf("%w: neither aud nor client_id", ErrAudience)
	}
	if !slices.Contains(v.Audiences, clientID) {
		return fmt.Errorf("%w: client_id %q, want one of %q", ErrAudience, clientID, v.Audiences)
	}
	return nil
}

// checkTimes requires exp in the future and nbf and iat, when present, not in the future,
// each with ClockSkew of tolerance.
func (v *Verifier) checkTimes(claims map[string]any) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no exp", ErrExpired)
	}
	if !t.Before(exp.Add(ClockSkew)) {
		return fmt.Errorf("%w: exp %s, now %s", ErrExpired, exp.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	for _, name := range []string{"nbf", "iat"} {
		at, ok, err := numericDate(claims, name)
		if err != nil {
			return err
		}
		if ok && at.After(t.Add(ClockSkew)) {
			return fmt.Errorf("%w: %s %s, now %s", ErrNotYetValid, name, at.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch, possibly fractional).
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, false, fmt.Errorf("%w: %s is a %T, want a number", ErrMalformed, name, raw)
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, false, fmt.Errorf("%w: %s %s is not a date", ErrMalformed, name, n)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// decodeSegment decodes one unpadded base64url JSON segment into v, keeping numbers exact.
func decodeSegment(segment string, v any) error {
	data, err := base64.RawURLEncoding.Strict().DecodeString(segment)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// CheckScopes returns nil if the route requires no scopes or the claims hold at least one of
// them, the authorizer's rule for a route's AuthorizationScopes. Scopes are read from scope
// (space-separated, as Cognito writes it) or scp (a list or a space-separated string).
func CheckScopes(claims map[string]any, required []string) error {
	if len(required) == 0 {
		return nil
	}
	var have []string
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			have = append(have, strings.Fields(v)...)
		case []any:
			for _, s := range v {
				if s, ok := s.(string); ok {
					have = append(have, s)
				}
			}
		}
	}
	for _, s := range required {
		if slices.Contains(have, s) {
			return nil
		}
	}
	return fmt.Errorf("%w: have %q, want one of %q", ErrScope, have, required)
}
