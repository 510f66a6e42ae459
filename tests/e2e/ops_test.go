package e2e

import (
	"bytes"
	"cmp"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// opsRow is one row of a table on the runner's ops page, as the browser read it.
type opsRow struct {
	Header string   `json:"header"`
	Cells  []string `json:"cells"`
}

// opsPage is what the browser read on the runner's ops page.
type opsPage struct {
	Status string `json:"status"`
	// Refreshed reports whether the page updated itself (within 10 s) without a reload.
	Refreshed bool              `json:"refreshed"`
	Captions  []string          `json:"captions"`
	Functions map[string]opsRow `json:"functions"`
	Queues    map[string]opsRow `json:"queues"`
}

// browser returns node, Debian's Chromium (E2E_CHROMIUM, default /usr/bin/chromium) and the
// folder holding playwright-core (E2E_PLAYWRIGHT_MODULES, default .cache/browser/node_modules).
// Without them the test is skipped, unless E2E_REQUIRE_BROWSER=1 makes that a failure.
func browser(t *testing.T) (node, chromium, modules string) {
	t.Helper()
	chromium = cmp.Or(os.Getenv("E2E_CHROMIUM"), "/usr/bin/chromium")
	modules = cmp.Or(os.Getenv("E2E_PLAYWRIGHT_MODULES"), filepath.Join(repoRoot(), ".cache", "browser", "node_modules"))
	node, err := exec.LookPath("node")
	var missing []string
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(modules, "playwright-core")); err != nil {
		missing = append(missing, "playwright-core in "+modules+" (npm install --prefix .cache/browser playwright-core@1.65.1)")
	}
	if len(missing) > 0 {
		msg := "headless browser test needs " + strings.Join(missing, ", ")
		if os.Getenv("E2E_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, chromium, modules
}

// readOpsPage opens the runner's ops page (/.web/ops/ on apiURL, local only) in headless Chromium,
// waits until its functions table shows an invocation of each of functions, saves a screenshot
// as .cache/screenshots/<name>.png (git-ignored) and returns what the page showed.
func readOpsPage(t *testing.T, apiURL, name string, functions ...string) opsPage {
	t.Helper()
	requireLocal(t) // the page is served by the local runner only
	node, chromium, modules := browser(t)
	shots := filepath.Join(cmp.Or(os.Getenv("E2E_CACHE"), filepath.Join(repoRoot(), ".cache")), "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(functions)
	cmd := exec.Command(node, filepath.Join("testdata", "ops_page.cjs"))
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+modules,
		"PAGE_URL="+apiURL+"/.web/ops/",
		"FUNCTIONS="+string(want),
		"SCREENSHOT="+filepath.Join(shots, name+".png"),
		"CHROMIUM="+chromium,
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("headless Chromium: %v\n%s", err, stderr.String())
	}
	var page opsPage
	if err := json.Unmarshal(out, &page); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	t.Logf("screenshot: %s", filepath.Join(shots, name+".png"))
	return page
}
