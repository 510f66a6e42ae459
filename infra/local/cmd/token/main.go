// Command token prints a signed access token for the local HTTP API, the local stand-in for
// signing in to the Cognito user pool:
//
//	go run ./cmd/token -user alice [-claims '{"plan":"beta"}'] [-ttl 1h]
//	curl -H "Authorization: Bearer $(go run ./cmd/token -user alice)" "$API_URL/jobs"
//
// The token is the only thing written to stdout; errors go to stderr with exit status 1.
// The signing key is the runner's (.cache/local-jwt/key.pem under the repository root,
// created on first use), so tokens work whether or not the runner is up and across restarts.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now))
}

// run is main with its inputs and outputs passed in; it returns the exit status.
func run(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	flags := flag.NewFlagSet("token", flag.ContinueOnError)
	flags.SetOutput(stderr)
	user := flags.String("user", "", "subject (sub) of the token: the user it stands for (required)")
	claimsJSON := flags.String("claims", "", `extra claims as a JSON object, e.g. '{"plan":"beta","scope":"jobs/read"}'`)
	keyPath := flags.String("key", "", "signing key PEM, created if absent (default <repository root>/"+jwt.DefaultKeyFile+")")
	issuer := flags.String("issuer", jwt.LocalIssuer, "iss claim; the runner accepts only "+jwt.LocalIssuer)
	audience := flags.String("audience", jwt.LocalAudience, "aud and client_id claims: the user pool client ID")
	ttl := flags.Duration("ttl", time.Hour, "how long the token is valid (Cognito's access token default is 1h)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "token: unexpected arguments %q\n", flags.Args())
		return 1
	}

	token, err := issue(*user, *claimsJSON, *keyPath, *issuer, *audience, *ttl, now())
	if err != nil {
		fmt.Fprintf(stderr, "token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, token)
	return 0
}

func issue(user, claimsJSON, keyPath, issuer, audience string, ttl time.Duration, now time.Time) (string, error) {
	if user == "" {
		return "", errors.New("-user is required")
	}
	extra, err := parseClaims(claimsJSON)
	if err != nil {
		return "", err
	}
	if keyPath == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find repository root: %w", err)
		}
		root, err := repositoryRoot(wd)
		if err != nil {
			return "", fmt.Errorf("%w (or pass -key)", err)
		}
		keyPath = filepath.Join(root, filepath.FromSlash(jwt.DefaultKeyFile))
	}
	iss, err := jwt.LoadOrCreateIssuer(keyPath, issuer)
	if err != nil {
		return "", err
	}
	return iss.Token(user, audience, extra, ttl, now)
}

// parseClaims reads the -claims flag, keeping numbers exactly as written.
func parseClaims(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("parse -claims: want a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse -claims: want a single JSON object")
	}
	return claims, nil
}

// repositoryRoot returns the nearest directory at or above dir that holds go.work.
func repositoryRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root: no go.work in %s or above", dir)
		}
	}
}
