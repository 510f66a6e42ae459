package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// checkOptions says which services to fork and test.
type checkOptions struct {
	repo     string // this repository's root, absolute
	services []string
	keep     bool // keep every fork, not only the failed ones
	stdout   io.Writer
}

// The downloads a fork's make test may reuse from this repository's .cache (the root Makefile's
// layout): the stand-ins as installed, and the package DynamoDB Local came in. Everything else a
// fork builds or fetches itself.
var sharedCaches = []string{"standins", "downloads"}

// checkForks forks each service into a new temporary folder and runs the fork's own make test
// there, one after the other, timing both. The fork sees nothing of this repository but the
// downloaded stand-ins, linked into its .cache. A fork that passes is removed (unless keep);
// one that fails is kept for a look, and the check fails.
func checkForks(o checkOptions) error {
	type result struct {
		service    string
		fork, test time.Duration
		err        error
		dir        string
	}
	var results []result
	start := time.Now()
	for _, svc := range o.services {
		r := result{service: svc}
		dir, err := os.MkdirTemp("", "fork-"+svc+"-")
		if err != nil {
			return err
		}
		r.dir = dir
		fmt.Fprintf(o.stdout, "== fork-check %s: %s\n", svc, dir)
		t0 := time.Now()
		r.err = writeFork(options{repo: o.repo, service: svc, dest: dir, module: "example.com/" + svc, log: o.stdout})
		r.fork = time.Since(t0)
		if r.err == nil {
			r.err = linkCaches(o.repo, dir)
		}
		if r.err == nil {
			// As the fork's README says to, and as its CI's checkout is: a git repository
			// (make fork's own tests list the files git sees).
			r.err = gitInit(dir)
		}
		if r.err == nil {
			t1 := time.Now()
			r.err = makeTest(dir, o.stdout)
			r.test = time.Since(t1)
		}
		if r.err == nil && !o.keep {
			_ = os.RemoveAll(dir)
		}
		results = append(results, r)
	}

	fmt.Fprintln(o.stdout, "\n== fork-check: each service forked and its fork's make test run")
	w := tabwriter.NewWriter(o.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "service\tfork\tmake test\tresult")
	failed := 0
	for _, r := range results {
		verdict := "ok"
		if r.err != nil {
			verdict = fmt.Sprintf("FAILED (kept in %s): %v", r.dir, firstLine(r.err))
			failed++
		} else if o.keep {
			verdict = "ok (kept in " + r.dir + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.service, r.fork.Round(time.Second), r.test.Round(time.Second), verdict)
	}
	fmt.Fprintf(w, "all\t\t%s\t\n", time.Since(start).Round(time.Second))
	_ = w.Flush()
	if failed > 0 {
		return fmt.Errorf("%d of %d forks failed", failed, len(results))
	}
	return nil
}

// linkCaches points the fork's .cache/standins and .cache/downloads at this repository's.
func linkCaches(repo, fork string) error {
	if err := os.MkdirAll(filepath.Join(fork, ".cache"), 0o755); err != nil {
		return err
	}
	for _, name := range sharedCaches {
		target := filepath.Join(repo, ".cache", name)
		if _, err := os.Stat(target); err != nil {
			return fmt.Errorf("no %s to reuse (run make standins first): %w", target, err)
		}
		if err := os.Symlink(target, filepath.Join(fork, ".cache", name)); err != nil {
			return err
		}
	}
	return nil
}

// makeTest runs make test in the fork, in an environment without what this repository's make
// passes down: its command-line variables (MAKEFLAGS: SERVICES=jobs would override the fork's own
// SERVICES) and what its Makefile exports or its tests read, which the fork's Makefile sets for
// itself.
func makeTest(dir string, out io.Writer) error {
	cmd := exec.Command("make", "test")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GOWORK",
			"REQUIRE_STANDINS", "DYNAMODB_LOCAL_DIR", "E2E_CACHE", "E2E_STACK", "SAMBUILD_OUT":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("make test: %w", err)
	}
	return nil
}

// gitInit makes dir a git repository, its files not yet added.
func gitInit(dir string) error {
	cmd := exec.Command("git", "init", "-q", "-b", "main")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v\n%s", err, out)
	}
	return nil
}

// firstLine returns the first line of err's message.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
