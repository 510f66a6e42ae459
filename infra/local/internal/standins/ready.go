package standins

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// httpReady returns a readiness check that wants 200 from GET path.
func httpReady(path string) func(ctx context.Context, url string) error {
	// No keep-alive: leave no idle connection to a process about to be stopped.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context, url string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
		}
		return nil
	}
}
