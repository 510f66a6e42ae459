package jwt

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
)

// jwk is one RSA entry of a JSON Web Key Set (RFC 7517), as Cognito publishes it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS returns the issuer's public key as a JSON Web Key Set, the document a user pool
// serves at <issuer>/.well-known/jwks.json.
func (i *Issuer) JWKS() []byte {
	n, e := encodePublicKey(&i.key.PublicKey)
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{{Kty: "RSA", Kid: i.kid, Use: "sig", Alg: "RS256", N: n, E: e}}}
	data, err := json.Marshal(set)
	if err != nil {
		panic(fmt.Sprintf("encode key set: %v", err)) // only strings: cannot fail
	}
	return data
}

// ParseJWKS returns the RSA signing keys of a JSON Web Key Set by kid, the way the
// authorizer reads an issuer's jwks_uri. Keys of other types or uses are left out.
func ParseJWKS(data []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse key set: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if k.Kid == "" {
			return nil, errors.New("parse key set: RSA key without kid")
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil || len(n) == 0 {
			return nil, fmt.Errorf("parse key set: key %s: bad modulus", k.Kid)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("parse key set: key %s: bad exponent", k.Kid)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys, nil
}

// Handler serves the issuer's discovery documents on GET, under whatever prefix it is
// mounted at: <prefix>/.well-known/jwks.json and <prefix>/.well-known/openid-configuration.
// The discovery document's issuer is the Issuer's URL; its jwks_uri points back at this
// handler as it was reached, since the issuer URL itself is only a name.
func (i *Issuer) Handler() http.Handler {
	const (
		jwksPath      = "/.well-known/jwks.json"
		discoveryPath = "/.well-known/openid-configuration"
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if !strings.HasSuffix(path, jwksPath) && !strings.HasSuffix(path, discoveryPath) {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body := i.JWKS()
		if prefix, ok := strings.CutSuffix(path, discoveryPath); ok {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			body = i.discovery(scheme + "://" + r.Host + prefix + jwksPath)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// discovery returns the parts of an OpenID Provider configuration that a JWT verifier reads.
func (i *Issuer) discovery(jwksURI string) []byte {
	data, err := json.Marshal(struct {
		Issuer            string   `json:"issuer"`
		JWKSURI           string   `json:"jwks_uri"`
		SigningAlgs       []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes     []string `json:"response_types_supported"`
		SubjectTypes      []string `json:"subject_types_supported"`
		TokenEndpointAuth []string `json:"token_endpoint_auth_methods_supported"`
	}{
		Issuer:            i.url,
		JWKSURI:           jwksURI,
		SigningAlgs:       []string{"RS256"},
		ResponseTypes:     []string{"token"},
		SubjectTypes:      []string{"public"},
		TokenEndpointAuth: []string{"none"},
	})
	if err != nil {
		panic(fmt.Sprintf("encode discovery document: %v", err)) // only strings: cannot fail
	}
	return data
}

// encodePublicKey returns the key's modulus and exponent as unpadded base64url big-endian
// bytes, the JWK encoding.
func encodePublicKey(key *rsa.PublicKey) (n, e string) {
	return base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())
}

// thumbprint returns the RFC 7638 JWK thumbprint of key: a kid that depends only on the
// key, so a key reloaded from disk keeps its kid.
func thumbprint(key *rsa.PublicKey) string {
	n, e := encodePublicKey(key)
	// RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
	canonical := `{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
