package jwt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
)

func Example() {
	dir, err := os.MkdirTemp("", "local-jwt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// The key is created on first use and reused after, so tokens survive restarts.
	issuer, err := jwt.LoadOrCreateIssuer(filepath.Join(dir, "key.pem"), jwt.LocalIssuer)
	if err != nil {
		fmt.Println(err)
		return
	}
	verifier := &jwt.Verifier{
		Issuer:    jwt.LocalIssuer,
		Audiences: []string{jwt.LocalAudience},
		Keys:      issuer.PublicKeys,
		Now:       time.Now,
	}

	token, err := issuer.Token("user-1", jwt.LocalAudience, map[string]any{"plan": "beta"}, time.Hour, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := verifier.Verify(token)
	fmt.Println(claims["sub"], claims["plan"], err)

	stale, err := issuer.Token("user-1", jwt.LocalAudience, nil, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = verifier.Verify(stale)
	fmt.Println(errors.Is(err, jwt.ErrExpired))
	// Output:
	// user-1 beta <nil>
	// true
}
