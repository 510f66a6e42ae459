package workflows

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The repository's workflows, and the Makefile and README their make targets must come from.
const (
	projectWorkflows = "../../.github/workflows"
	projectMakefile  = "../../Makefile"
	projectReadme    = "../../README.md"
)

// offence is a violation a fixture must produce: a line that starts with "<where>: " (on,
// permissions, jobs.<id> or jobs.<id>.steps[<i>]) and mentions about.
type offence struct {
	where, about string
}

// projectRepository reads the repository's Makefile and README.
func projectRepository(t *testing.T) *repository {
	t.Helper()
	repo, err := loadRepository(projectMakefile, projectReadme)
	if err != nil {
		t.Fatalf("read the Makefile and README: %v", err)
	}
	return repo
}

// projectWorkflowPaths lists the repository's workflow files; there must be some.
func projectWorkflowPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		matches, err := filepath.Glob(filepath.Join(projectWorkflows, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, matches...)
	}
	if len(paths) == 0 {
		t.Fatalf("no workflows in %s", projectWorkflows)
	}
	slices.Sort(paths)
	return paths
}

// load reads a workflow file.
func load(t *testing.T, path string) *workflow {
	t.Helper()
	w, err := loadWorkflow(path)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// ruleNamed returns the rule called name.
func ruleNamed(t *testing.T, name string) rule {
	t.Helper()
	for _, r := range allRules() {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no rule %s in allRules", name)
	return rule{}
}

// testRule runs the rule called name on every workflow of the repository, which must keep it,
// and on testdata/<fixture>, which must break it with every offence in want and keep every other
// rule.
func testRule(t *testing.T, name, fixture string, want ...offence) {
	t.Helper()
	r := ruleNamed(t, name)
	repo := projectRepository(t)
	for _, path := range projectWorkflowPaths(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if got := r.check(load(t, path), repo); len(got) != 0 {
				t.Errorf("%s: got violations of %s, want none:\n%s", path, name, strings.Join(got, "\n"))
			}
		})
	}
	if len(want) == 0 {
		t.Fatalf("%s: no offences to expect from %s; a rule must be seen to fail", name, fixture)
	}
	t.Run(fixture, func(t *testing.T) {
		path := filepath.Join("testdata", fixture)
		w := load(t, path)
		got := r.check(w, repo)
		t.Logf("%s breaks %s:\n%s", path, name, strings.Join(got, "\n"))
		for _, o := range want {
			if !reported(got, o) {
				t.Errorf("got violations:\n%s\nwant one starting %q that mentions %q", strings.Join(got, "\n"), o.where+": ", o.about)
			}
		}
		if len(got) != len(want) {
			t.Errorf("got %d violations, want %d", len(got), len(want))
		}
		for _, other := range allRules() {
			if other.name == name {
				continue
			}
			if v := other.check(w, repo); len(v) != 0 {
				t.Errorf("%s also breaks %s, want it to break only %s:\n%s", path, other.name, name, strings.Join(v, "\n"))
			}
		}
	})
}

// reported reports whether violations hold the offence o.
func reported(violations []string, o offence) bool {
	for _, v := range violations {
		if strings.HasPrefix(v, o.where+": ") && strings.Contains(v, o.about) {
			return true
		}
	}
	return false
}

func TestGoodFixtureKeepsEveryRule(t *testing.T) {
	const path = "testdata/good.yml"
	w, repo := load(t, path), projectRepository(t)
	for _, r := range allRules() {
		t.Run(r.name, func(t *testing.T) {
			if got := r.check(w, repo); len(got) != 0 {
				t.Errorf("%s: got violations, want none:\n%s", path, strings.Join(got, "\n"))
			}
		})
	}
}

func TestActionsArePinnedToCommits(t *testing.T) {
	testRule(t, "ActionsArePinnedToCommits", "unpinned-action.yml",
		offence{"jobs.test.steps[0]", `uses "actions/checkout@v7", which is not pinned to a commit SHA`},
		offence{"jobs.deploy.steps[1]", `uses "aws-actions/configure-aws-credentials@main"`},
	)
}

func TestNoPullRequestTarget(t *testing.T) {
	testRule(t, "NoPullRequestTarget", "pull-request-target.yml",
		offence{"on", "pull_request_target runs with this repository's secrets"},
	)
}

func TestPermissionsArePerJob(t *testing.T) {
	testRule(t, "PermissionsArePerJob", "id-token-without-role.yml",
		offence{"permissions", "not set at the top level"},
		offence{"jobs.test", "id-token: write, but no step assumes a role (aws-actions/configure-aws-credentials)"},
	)
}

func TestMakeTargetsAreDocumented(t *testing.T) {
	testRule(t, "MakeTargetsAreDocumented", "unknown-make-target.yml",
		offence{"jobs.test.steps[2]", "make ship: the Makefile has no target ship"},
		offence{"jobs.test.steps[3]", `"make -j2" names no target`},
	)
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	testRule(t, "SecretsAreNeverPrinted", "echoed-secret.yml",
		offence{"jobs.test.steps[3]", "run expands ${{ secrets.DEPLOY_KEY }} into the script; pass it in env:"},
		offence{"jobs.test.steps[3]", `"echo key ${{secrets.DEPLOY_KEY}}" prints a secret`},
		offence{"jobs.deploy.steps[2]", "prints NOTIFY_TOKEN, which env: sets from a secret"},
	)
}

// A target the Makefile has but the README does not document is refused as well as one the
// Makefile lacks; the project's own Makefile and README may change which targets those are, so
// this one reads a repository of its own.
func TestUndocumentedMakeTargetIsRefused(t *testing.T) {
	repo := &repository{
		targets:    map[string]bool{"test": true, "clean": true},
		documented: map[string]bool{"test": true},
	}
	w, err := parseWorkflow([]byte(`
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: make test && make clean
      - run: make -C infra/local test
`))
	if err != nil {
		t.Fatal(err)
	}
	got := checkMakeTargetsAreDocumented(w, repo)
	want := []string{
		"jobs.build.steps[0]: make clean: the README does not document make clean",
		`jobs.build.steps[1]: "make -C infra/local test" uses -C, so it runs another Makefile than the repository's`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadRepositoryReadsTargetsFromTheFiles(t *testing.T) {
	repo := projectRepository(t)
	// The README's Deploying section and make test, which CI runs.
	for _, target := range []string{"test", "deploy", "e2e", "delete"} {
		if !repo.targets[target] || !repo.documented[target] {
			t.Errorf("make %s: defined %v, documented %v; want both", target, repo.targets[target], repo.documented[target])
		}
	}
	for _, notTarget := range []string{"SHELL", "ROOT", ".PHONY", "ifeq"} {
		if repo.targets[notTarget] {
			t.Errorf("%s read as a Makefile target", notTarget)
		}
	}
}

func TestMakeCalls(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   [][]string // the targets of each make call
	}{
		{"plain", "make test", [][]string{{"test"}}},
		{"variables and options", "GOFLAGS=-v make -s deploy STAGE=\"$STAGE\" -j 2", [][]string{{"deploy"}}},
		{"after if and then", "if [ -n \"$x\" ]; then make delete STAGE=pr-1; fi", [][]string{{"delete"}}},
		{"and, or, pipe", "make vet && make unit || make lint | tee log", [][]string{{"vet"}, {"unit"}, {"lint"}}},
		{"command substitution", "token=$(make -s token USER=alice)", [][]string{{"token"}}},
		{"command substitution in quotes", `echo "token: $(make -s token)"`, [][]string{{"token"}}},
		{"backticks", "x=`make -s token`", [][]string{{"token"}}},
		{"line continuation", "make \\\n  deploy STAGE=x", [][]string{{"deploy"}}},
		{"a word, not a command", `echo make ship; echo "make ship"`, nil},
		{"a comment", "# make ship\nmake test # make ship", [][]string{{"test"}}},
		{"single quotes keep everything", `echo '$(make ship)'`, nil},
		{"redirections", "make delete STAGE=x </dev/null 2>&1 >>log && make test &>out", [][]string{{"delete"}, {"test"}}},
		{"expression as a target", "make ${{ matrix.target }}", [][]string{{"${{matrix.target}}"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			for _, c := range makeCalls(tt.script) {
				got = append(got, c.targets)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("makeCalls(%q) targets = %q; want %q", tt.script, got, tt.want)
			}
		})
	}
}
