package jwt

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// LocalIssuer is the iss of every local token and the issuer the runner's Verifier expects.
// It stands for the user pool URL (https://cognito-idp.<region>.amazonaws.com/<pool id>)
// and is never fetched.
const LocalIssuer = "http://localhost/local-issuer"

// LocalAudience is the client ID local tokens are issued to; the runner resolves the
// template's user pool client ID to it.
const LocalAudience = "local-client"

// DefaultKeyFile is where the signing key lives, relative to the repository root.
// It is under .cache/, which is never committed.
const DefaultKeyFile = ".cache/local-jwt/key.pem"

// keyBits is the size of generated keys; Cognito signs with RSA-2048 too.
const keyBits = 2048

// Issuer signs tokens with one RSA key, the way a Cognito user pool signs access tokens.
type Issuer struct {
	key *rsa.PrivateKey
	kid string
	url string
}

// NewIssuer returns an Issuer that signs with key and writes issuerURL as iss.
func NewIssuer(key *rsa.PrivateKey, issuerURL string) (*Issuer, error) {
	if key == nil {
		return nil, errors.New("new issuer: no key")
	}
	if issuerURL == "" {
		return nil, errors.New("new issuer: empty issuer URL")
	}
	return &Issuer{key: key, kid: thumbprint(&key.PublicKey), url: issuerURL}, nil
}

// LoadOrCreateIssuer returns an Issuer whose key is the PEM file at keyPath, creating an
// RSA-2048 key there first if there is none (directory 0700, file 0600). The key ID is
// derived from the key, so a reloaded key has the same kid and old tokens still verify.
func LoadOrCreateIssuer(keyPath, issuerURL string) (*Issuer, error) {
	key, err := loadKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(keyPath)
	}
	if err != nil {
		return nil, err
	}
	return NewIssuer(key, issuerURL)
}

// URL returns the issuer string written as iss.
func (i *Issuer) URL() string { return i.url }

// KeyID returns the kid written in every token header: the key's RFC 7638 thumbprint.
func (i *Issuer) KeyID() string { return i.kid }

// PublicKeys returns the issuer's public keys by kid, ready for Verifier.Keys.
// Each call returns a new map.
func (i *Issuer) PublicKeys() map[string]*rsa.PublicKey {
	return map[string]*rsa.PublicKey{i.kid: &i.key.PublicKey}
}

// Sign returns claims as a compact RS256 token whose header names the issuer's key.
// It writes the claims exactly as given, whatever they are.
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}{Alg: "RS256", Typ: "JWT", Kid: i.kid})
	if err != nil {
		return "", fmt.Errorf("encode token header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode token claims: %w", err)
	}
	signingInput := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(nil, i.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Token returns a signed access token for sub, issued to audience at now and valid for ttl,
// with extra claims added. Extra may not set any claim Token writes itself (see the
// package doc); use Sign for that.
func (i *Issuer) Token(sub, audience string, extra map[string]any, ttl time.Duration, now time.Time) (string, error) {
	if sub == "" {
		return "", errors.New("issue token: empty subject")
	}
	if audience == "" {
		return "", errors.New("issue token: empty audience")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("issue token: ttl %s is not positive", ttl)
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if reserved(name) {
			return "", fmt.Errorf("issue token: extra claim %q would replace a claim the issuer sets", name)
		}
	}
	claims := map[string]any{
		"iss":       i.url,
		"sub":       sub,
		"aud":       audience,
		"client_id": audience,
		"token_use": "access",
		"iat":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
		"jti":       uuid(),
	}
	for name, value := range extra {
		claims[name] = value
	}
	return i.Sign(claims)
}

// reserved reports whether Token writes the claim name itself (nbf included: Token leaves
// it out on purpose, as Cognito does).
func reserved(name string) bool {
	switch name {
	case "iss", "sub", "aud", "client_id", "token_use", "iat", "nbf", "exp", "jti":
		return true
	}
	return false
}

func loadKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("read signing key %s: no PEM block", path)
	}
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse signing key %s: %w", path, err)
		}
		key, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("parse signing key %s: %T is not an RSA key", path, parsed)
		}
		return key, nil
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse signing key %s: %w", path, err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("parse signing key %s: unexpected PEM block %q", path, block.Type)
	}
}

// createKey writes a new key to a temporary file and links it into place, so a concurrent
// `make token` never reads a half-written key: whoever links first wins and the other
// loads the winner's key.
func createKey(path string) (*rsa.PrivateKey, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create signing key directory: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*.pem") // CreateTemp creates the file 0600
	if err != nil {
		return nil, fmt.Errorf("create signing key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return loadKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	return key, nil
}

// uuid returns a random (version 4) UUID, the form Cognito uses for jti.
func uuid() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: since Go 1.24 it crashes the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
