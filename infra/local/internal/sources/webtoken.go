package sources

import (
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
)

// TokenPath is where the local pages mint an access token: the local stand-in for signing in to
// the user pool, as `make token` is on the command line. It exists only in the runner; nothing
// in a template declares it, so it is never deployed.
const TokenPath = WebPagesPath + "token"

// TokenTTL is how long a minted token is valid: Cognito's default for access tokens.
const TokenTTL = time.Hour

// userName is what a minted token's subject may be: what `make token USER=` is used with, and
// safe in every key prefix a service builds from the subject.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// TokenMinter answers POST TokenPath {"user": "alice"} with {"token", "expiresAt"}, a token the
// local JWT authorizer accepts for that user.
//
// It is safe on this machine because of what the token is and where it is served: the token is
// signed with the local issuer's key (.cache/local-jwt), which only the local runner trusts (a
// deployed API accepts its Cognito user pool's tokens alone), and the runner listens on
// 127.0.0.1 (and it refuses a caller whose own address is not loopback, whatever Host it sends).
// Other users of the same machine can reach 127.0.0.1 too: the local runner is a single-user
// development tool. Against other web pages open in the same browser, it answers only a same-origin
// request: a JSON body (a cross-origin page cannot send one without a CORS preflight, which is
// never granted), no Origin but this one, and a Host that is a loopback address, so a page that
// rebinds its own DNS name to 127.0.0.1 is refused too.
type TokenMinter struct {
	Issuer *jwt.Issuer
	// Audience is the app client the authorizers accept.
	Audience string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

type mintRequest struct {
	User string `json:"user"`
}

type mintAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ServeHTTP mints a token, or answers a problem+json error and mints nothing.
func (m TokenMinter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, http.StatusMethodNotAllowed, "Only POST mints a token.")
		return
	}
	// The caller's own address first: the Host header is whatever the client wrote, so it proves
	// nothing about where the request came from if the runner is ever bound beyond loopback.
	if peer, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !isLoopback(peer) {
		writeProblem(w, http.StatusForbidden, "Tokens are minted only for callers on this machine's loopback address.")
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host != "localhost" && !isLoopback(host) {
		writeProblem(w, http.StatusForbidden, "Tokens are minted only for pages loaded from a loopback address (127.0.0.1 or localhost).")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
		writeProblem(w, http.StatusForbidden, "Tokens are minted only for this origin's own pages.")
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		writeProblem(w, http.StatusForbidden, "Tokens are minted only for this origin's own pages.")
		return
	}
	if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mediaType != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, `Send {"user": "<name>"} as application/json.`)
		return
	}
	var in mintRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		writeProblem(w, http.StatusBadRequest, `Send {"user": "<name>"}, and nothing else.`)
		return
	}
	if !userName.MatchString(in.User) {
		writeProblem(w, http.StatusBadRequest, "user must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
		return
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	token, err := m.Issuer.Token(in.User, m.Audience, nil, TokenTTL, now)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "The token could not be signed.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(mintAnswer{Token: token, ExpiresAt: now.Add(TokenTTL).UTC()})
}

// isLoopback reports whether host is a loopback IP address (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeProblem answers an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}
