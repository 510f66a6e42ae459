package e2e

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The local pages (/.web/ on the runner's URL) are driven in Debian's Chromium through
// playwright-core, as a user would use them: one script in testdata per page, which prints what
// the page showed as JSON. Each leaves a screenshot in .cache/screenshots/ (git-ignored) for a
// reviewer to look at.

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

// screenshot returns where a page test saves its screenshot name: .cache/screenshots/<name>.png
// (E2E_CACHE is the .cache folder when set), and logs it.
func screenshot(t *testing.T, name string) string {
	t.Helper()
	shots := filepath.Join(cmp.Or(os.Getenv("E2E_CACHE"), filepath.Join(repoRoot(), ".cache")), "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(shots, name+".png")
	t.Logf("screenshot: %s", path)
	return path
}

// runPageScript runs testdata/<script> in node with env added (the browser's path as CHROMIUM)
// and decodes what it prints into out.
func runPageScript(t *testing.T, script string, out any, env ...string) {
	t.Helper()
	node, chromium, modules := browser(t)
	cmd := exec.Command(node, filepath.Join("testdata", script))
	cmd.Env = append(append(os.Environ(), "NODE_PATH="+modules, "CHROMIUM="+chromium), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	printed, err := cmd.Output()
	if err != nil {
		t.Fatalf("headless Chromium (%s): %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(printed, out); err != nil {
		t.Fatalf("decode %q: %v", printed, err)
	}
}

// TestPagesIndex opens the index the runner prints as PAGES_URL: it links the ops page and the
// page of every service that has one (services/<svc>/web), and its token endpoint mints, for a
// page of this origin, a token the API accepts.
func TestPagesIndex(t *testing.T) {
	requireLocal(t) // the pages and the token endpoint exist in the local runner only
	if !strings.HasSuffix(st.pagesURL, "/.web/") {
		t.Fatalf("PAGES_URL = %q; want the API URL with /.web/", st.pagesURL)
	}
	want := []string{"/.web/ops/"}
	dirs, _ := filepath.Glob(filepath.Join(repoRoot(), "services", "*", "web", "index.html"))
	for _, d := range dirs {
		want = append(want, "/.web/"+filepath.Base(filepath.Dir(filepath.Dir(d)))+"/")
	}
	var page struct {
		Links []struct {
			Href  string `json:"href"`
			Title string `json:"title"`
			// Status is what GET of the link answered.
			Status int `json:"status"`
		} `json:"links"`
		// Minted is the status of POST /.web/token {"user": "page-user"} from the page, and
		// Token the token it answered.
		Minted int    `json:"minted"`
		Token  string `json:"token"`
	}
	runPageScript(t, "index_page.cjs", &page,
		"PAGE_URL="+st.pagesURL,
		"SCREENSHOT="+screenshot(t, "pages-index"),
	)
	var got []string
	for _, l := range page.Links {
		got = append(got, l.Href)
		if l.Status != 200 || l.Title == "" {
			t.Errorf("link %+v; want a title and a page that answers 200", l)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("index links %v; want %v", got, want)
	}
	// The service page tests use such a token with their API; here, it is the user's.
	var claims struct {
		Sub string `json:"sub"`
	}
	parts := strings.Split(page.Token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[min(1, len(parts)-1)])
	if page.Minted != 200 || len(parts) != 3 || err != nil || json.Unmarshal(payload, &claims) != nil || claims.Sub != "page-user" {
		t.Errorf("minting from the page = %d %q; want 200 and a token for page-user", page.Minted, page.Token)
	}
}
