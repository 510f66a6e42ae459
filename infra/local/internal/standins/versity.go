package standins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// StartVersity starts versitygw, the S3 stand-in, on 127.0.0.1:port (0 picks a free port)
// with its POSIX backend storing buckets under dataDir, and returns once GET /health
// answers 200. ctx bounds the wait, never longer than 30 s. Its output goes to logs (nil
// discards it).
//
// Clients must sign with accessKey and secretKey, its root user; versitygw checks SigV4
// signatures as S3 does. dataDir is created if absent and must support extended attributes
// (ext4 and APFS do). If webhookURL is not empty, versitygw posts an S3 event notification
// there for every object created or deleted; it exits at start-up if nothing is listening
// there yet, so start the receiver first.
func StartVersity(ctx context.Context, paths Paths, port int, dataDir, accessKey, secretKey, webhookURL string, logs io.Writer) (*Process, error) {
	if err := paths.missingVersity().err(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	if dataDir == "" || accessKey == "" || secretKey == "" {
		return nil, errors.New("start versitygw: data directory, access key and secret key are required")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("start versitygw: create data directory: %w", err)
	}
	s := spec{
		name: "versitygw",
		path: paths.VersityGW,
		args: func(port int) []string {
			args := []string{"--port", "127.0.0.1:" + strconv.Itoa(port), "--quiet", "--health", "/health"}
			if webhookURL != "" {
				args = append(args, "--event-webhook-url", webhookURL)
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
