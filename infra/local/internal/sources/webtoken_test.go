package sources

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
)

func TestTokenMinter(t *testing.T) {
	issuer, err := jwt.LoadOrCreateIssuer(filepath.Join(t.TempDir(), "key.pem"), jwt.LocalIssuer)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	minter := TokenMinter{Issuer: issuer, Audience: "local-client", Now: func() time.Time { return now }}
	const ctJSON = "application/json"
	tests := []struct {
		name, method, host, origin, site, contentType, body string
		peer                                                string // RemoteAddr; "" is 127.0.0.1:54321
		want                                                int
	}{
		{name: "same-origin page", method: "POST", host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000", site: "same-origin", contentType: ctJSON, body: `{"user":"alice"}`, want: 200},
		{name: "JSON with a charset", method: "POST", host: "[::1]:3000", contentType: "application/json; charset=utf-8", body: `{"user":"bob"}`, want: 200},
		{name: "no Content-Type", method: "POST", host: "127.0.0.1:3000", body: `{"user":"alice"}`, want: 415},
		{name: "localhost, no Origin (curl)", method: "POST", host: "localhost:3000", contentType: ctJSON, body: `{"user":"a.b-c_1"}`, want: 200},
		{name: "GET", method: "GET", host: "127.0.0.1:3000", want: 405},
		{name: "another site's page", method: "POST", host: "127.0.0.1:3000", origin: "https://evil.example", site: "cross-site", contentType: ctJSON, body: `{"user":"alice"}`, want: 403},
		{name: "a name rebound to 127.0.0.1", method: "POST", host: "evil.example:3000", origin: "http://evil.example:3000", site: "same-origin", contentType: ctJSON, body: `{"user":"alice"}`, want: 403},
		{name: "a form post", method: "POST", host: "127.0.0.1:3000", contentType: "application/x-www-form-urlencoded", body: `user=alice`, want: 415},
		{name: "no user", method: "POST", host: "127.0.0.1:3000", contentType: ctJSON, body: `{}`, want: 400},
		{name: "a path as user", method: "POST", host: "127.0.0.1:3000", contentType: ctJSON, body: `{"user":"../bob"}`, want: 400},
		{name: "unknown field", method: "POST", host: "127.0.0.1:3000", contentType: ctJSON, body: `{"user":"alice","admin":true}`, want: 400},
		{name: "two objects", method: "POST", host: "127.0.0.1:3000", contentType: ctJSON, body: `{"user":"alice"}{"user":"bob"}`, want: 400},
		{name: "IPv6 loopback caller", method: "POST", host: "[::1]:3000", peer: "[::1]:54321", contentType: ctJSON, body: `{"user":"alice"}`, want: 200},
		{name: "a caller on the network writing a loopback Host", method: "POST", host: "127.0.0.1:3000", peer: "192.168.1.20:40000", contentType: ctJSON, body: `{"user":"alice"}`, want: 403},
		{name: "a sibling site with this Origin", method: "POST", host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000", site: "same-site", contentType: ctJSON, body: `{"user":"alice"}`, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://"+tt.host+TokenPath, strings.NewReader(tt.body))
			req.RemoteAddr = cmp.Or(tt.peer, "127.0.0.1:54321")
			for name, value := range map[string]string{"Origin": tt.origin, "Sec-Fetch-Site": tt.site, "Content-Type": tt.contentType} {
				if value != "" {
					req.Header.Set(name, value)
				}
			}
			rec := httptest.NewRecorder()
			minter.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d %s; want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" || strings.Contains(rec.Body.String(), "token\"") {
					t.Errorf("answer %s %s; want a problem document and no token", ct, rec.Body)
				}
				return
			}
			var answer mintAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
				t.Fatal(err)
			}
			// The local authorizer accepts it, for that user.
			v := &jwt.Verifier{Issuer: jwt.LocalIssuer, Audiences: []string{"local-client"}, Keys: issuer.PublicKeys, Now: func() time.Time { return now }}
			claims, err := v.Verify(answer.Token)
			if err != nil {
				t.Fatalf("minted token refused: %v", err)
			}
			var want mintRequest
			_ = json.Unmarshal([]byte(tt.body), &want)
			if claims["sub"] != want.User || !answer.ExpiresAt.Equal(now.Add(TokenTTL)) {
				t.Errorf("sub %v, expires %v; want %s, %v", claims["sub"], answer.ExpiresAt, want.User, now.Add(TokenTTL))
			}
		})
	}
}
