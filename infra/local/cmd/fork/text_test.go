package main

import (
	"strings"
	"testing"
)

const makefile = `.PHONY: test
test: standins vet e2e ## Everything CI runs.

.PHONY: e2e
e2e: standins browser ## End-to-end tests.
	cd tests && go test ./e2e/...

# playwright-core for the page tests.
.PHONY: browser
browser: $(CACHE)/browser/.installed ## Install playwright-core.

$(CACHE)/browser/.installed: tests/browser/package.json
	cd $(CACHE)/browser && npm ci
	touch $@

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin

##@ Forking

.PHONY: fork
fork: ## Fork.
	go run ./cmd/fork
`

func TestForkMakefile(t *testing.T) {
	got, err := forkMakefile([]byte(makefile), true)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := strings.Cut(makefile, "\n##@ Forking")
	if string(got) != want {
		t.Errorf("with the page test: got\n%s\nwant\n%s", got, want)
	}

	got, err = forkMakefile([]byte(makefile), false)
	if err != nil {
		t.Fatal(err)
	}
	want = `.PHONY: test
test: standins vet e2e ## Everything CI runs.

.PHONY: e2e
e2e: standins ## End-to-end tests.
	cd tests && go test ./e2e/...

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin
`
	if string(got) != want {
		t.Errorf("without the page test: got\n%s\nwant\n%s", got, want)
	}
}

func TestForkCIRun(t *testing.T) {
	const run = `#!/usr/bin/env bash
# CI entry point.
set -euo pipefail
need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
# The uploads page is tested in Debian's Chromium.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)

# In CI a page test that cannot find its browser fails instead of skipping.
export E2E_REQUIRE_BROWSER=1
make test

# Each service, forked on its own, passes its own make test (FORKING.md).
make fork-check SERVICES=jobs
`
	got := string(forkCIRun([]byte(run), false))
	want := `#!/usr/bin/env bash
# CI entry point.
set -euo pipefail
need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)

make test
`
	if got != want {
		t.Errorf("without the page test: got\n%s\nwant\n%s", got, want)
	}
	if got := string(forkCIRun([]byte(run), true)); !strings.Contains(got, "chromium") || strings.Contains(got, "fork-check") {
		t.Errorf("with the page test: got\n%s\nwant chromium kept and the fork check gone", got)
	}
}

func TestForkParameters(t *testing.T) {
	src := `{
  "FlagSource": "file",
  "FlagsFile": "${RepoRoot}/services/pricing/flags.json",
  "ImportMaxLinesPerInvocation": "1000"
}
`
	tests := []struct {
		declared []string
		want     string
	}{
		{[]string{"Stage", "FlagSource", "FlagsFile"}, "{\n  \"FlagSource\": \"file\",\n  \"FlagsFile\": \"${RepoRoot}/services/pricing/flags.json\"\n}\n"},
		{[]string{"Stage", "ImportMaxLinesPerInvocation"}, "{\n  \"ImportMaxLinesPerInvocation\": \"1000\"\n}\n"},
		{[]string{"Stage"}, "{}\n"},
	}
	for _, tt := range tests {
		got, err := forkParameters([]byte(src), tt.declared)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("declared %v: got %q, want %q", tt.declared, got, tt.want)
		}
	}
}

func TestForkGoWork(t *testing.T) {
	src := "go 1.26.8\n\nuse (\n\t./infra/local\n\t./services/fanout\n\t./services/jobs\n\t./shared\n\t./tests\n)\n"
	want := "go 1.26.8\n\nuse (\n\t./infra/local\n\t./services/jobs\n\t./shared\n\t./tests\n)\n"
	if got := string(forkGoWork([]byte(src), "jobs")); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The README starts as the issue asks, and documents every make target the workflows run:
// tests/workflows refuses a workflow calling a target the README does not document.
func TestReadmeDocumentsTheWorkflowTargets(t *testing.T) {
	r := readme{service: "jobs", module: "example.com/jobs", upstreamURL: upstreamURL, title: "services/jobs — polling", app: "JobsApp"}
	text := string(r.text())
	if !strings.HasPrefix(text, "# You forked jobs\n") {
		t.Errorf("README starts %q, want \"# You forked jobs\"", text[:min(len(text), 40)])
	}
	for _, target := range []string{"run", "test", "deploy", "e2e", "delete"} {
		if !strings.Contains(text, "make "+target+" ") {
			t.Errorf("README documents no make %s", target)
		}
	}
	if !strings.Contains(text, "(FORKING.md)") {
		t.Error("README does not link FORKING.md")
	}
}

func TestKeptAlways(t *testing.T) {
	services := []string{"fanout", "jobs", "ledger"}
	tests := []struct {
		file string
		want bool
	}{
		{"services/jobs/cmd/submit-job/main.go", true},
		{"services/fanout/go.mod", false},
		{"tests/e2e/jobs_test.go", true},
		{"tests/e2e/ledger_test.go", false},
		{"tests/e2e/fanout_helpers_test.go", false},
		{"tests/e2e/stack_test.go", true},
		{"tests/e2e/forkcheck/forkcheck_test.go", true},
		{"shared/logging/logging.go", true},
		{"infra/local/parameters.json", true},
	}
	for _, tt := range tests {
		if got := keptAlways(tt.file, "jobs", services); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.file, got, tt.want)
		}
	}
}
