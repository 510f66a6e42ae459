package e2e

import (
	"encoding/json"
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

// readOpsPage opens the runner's ops page (/.web/ops/ on apiURL, local only) in headless Chromium,
// waits until its functions table shows an invocation of each of functions, saves a screenshot
// as .cache/screenshots/<name>.png (git-ignored) and returns what the page showed.
func readOpsPage(t *testing.T, apiURL, name string, functions ...string) opsPage {
	t.Helper()
	requireLocal(t) // the page is served by the local runner only
	want, _ := json.Marshal(functions)
	var page opsPage
	runPageScript(t, "ops_page.cjs", &page,
		"PAGE_URL="+apiURL+"/.web/ops/",
		"FUNCTIONS="+string(want),
		"SCREENSHOT="+screenshot(t, name),
	)
	return page
}
