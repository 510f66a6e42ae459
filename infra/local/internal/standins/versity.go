package standins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// VersityConfig says how to run versitygw.
type VersityConfig struct {
	// DataDir stores the buckets (POSIX backend). It is created if absent and must support
	// extended attributes (ext4 and APFS do).
	DataDir string
	// AccessKey and SecretKey are the root user's keys.
	AccessKey, SecretKey string
	// Accounts are further users whose signatures versitygw accepts, each with full access:
	// who may do what is decided in front of it (the runner's IAM gateway), not by versitygw.
	Accounts []VersityAccount
	// WebhookURL, when set, receives an S3 event notification for every object created or
	// deleted. versitygw exits at start-up if nothing listens there yet: start the receiver first.
	WebhookURL string
}

// VersityAccount is one user of versitygw's internal IAM.
type VersityAccount struct {
	AccessKey, SecretKey string
}

// StartVersity starts versitygw, the S3 stand-in, on 127.0.0.1:port (0 picks a free port),
// and returns once GET /health answers 200. ctx bounds the wait, never longer than 30 s. Its
// output goes to logs (nil discards it).
//
// Clients must sign with the root keys or an account's; versitygw checks SigV4 signatures as S3
// does. Accounts are written to its internal IAM (users.json in a directory beside DataDir)
// with the admin role, which versitygw lets act on every bucket.
func StartVersity(ctx context.Context, paths Paths, port int, cfg VersityConfig, logs io.Writer) (*Process, error) {
	if err := paths.missingVersity().err(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	if cfg.DataDir == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("start versitygw: data directory, access key and secret key are required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("start versitygw: create data directory: %w", err)
	}
	iamDir := ""
	if len(cfg.Accounts) > 0 {
		iamDir = filepath.Clean(cfg.DataDir) + ".iam"
		if err := writeVersityAccounts(iamDir, cfg.Accounts); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
	}
	dataDir, webhookURL, accessKey, secretKey := cfg.DataDir, cfg.WebhookURL, cfg.AccessKey, cfg.SecretKey
	s := spec{
		name: "versitygw",
		path: paths.VersityGW,
		args: func(port int) []string {
			args := []string{"--port", "127.0.0.1:" + strconv.Itoa(port), "--quiet", "--health", "/health"}
			if webhookURL != "" {
				args = append(args, "--event-webhook-url", webhookURL)
			}
			if iamDir != "" {
				args = append(args, "--iam-dir", iamDir)
			}
			return append(args, "posix", dataDir)
		},
		// Keys go in the environment rather than flags, out of sight of ps.
		env: func(int) []string {
			return []string{"ROOT_ACCESS_KEY_ID=" + accessKey, "ROOT_SECRET_ACCESS_KEY=" + secretKey}
		},
		ready:        httpReady("/health"),
		readyTimeout: 30 * time.Second,
	}
	if webhookURL != "" {
		s.hint = "versitygw exits at start-up when nothing listens at its event webhook " + webhookURL
	}
	return start(ctx, s, port, logs)
}

// writeVersityAccounts writes versitygw's internal IAM file (auth/iam_internal.go in versitygw:
// users.json, {"accessAccounts": {<access key>: {access, secret, role}}}), replacing any there.
func writeVersityAccounts(dir string, accounts []VersityAccount) error {
	type account struct {
		Access string `json:"access"`
		Secret string `json:"secret"`
		Role   string `json:"role"`
	}
	users := map[string]account{}
	for _, a := range accounts {
		if a.AccessKey == "" || a.SecretKey == "" {
			return errors.New("an account needs an access key and a secret key")
		}
		users[a.AccessKey] = account{Access: a.AccessKey, Secret: a.SecretKey, Role: "admin"}
	}
	data, err := json.Marshal(map[string]any{"accessAccounts": users})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create IAM directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.json"), data, 0o600); err != nil {
		return fmt.Errorf("write IAM accounts: %w", err)
	}
	return nil
}
