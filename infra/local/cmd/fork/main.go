// Command fork writes a standalone repository holding one service of this one, and checks that
// such forks pass their own tests. The root Makefile runs it:
//
//	make fork SERVICE=jobs DEST=../jobs [MODULE=example.com/jobs]
//	make fork-check [SERVICES="jobs fanout"]
//
// which come down to
//
//	fork -repo <root> [-module <path>] <service> <dest>
//	fork -repo <root> -check [-keep] <service>...
//
// A fork is this repository pruned to one service in the same layout, so that every generic piece
// (the Makefile, the local runner, the template rules, the end-to-end harness, CI) works there
// unchanged: services/<service>, the shared packages it imports, infra/, tests/ with the harness
// and that service's end-to-end tests, a root template.yaml nesting that one application, and a
// README of its own. FORKING.md says what it keeps and why. The check forks each service into a
// temporary folder and runs the fork's `make test` there, reusing nothing of this repository but
// the downloaded stand-ins.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and outputs passed in; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("fork", flag.ContinueOnError)
	flags.SetOutput(stderr)
	repo := flags.String("repo", "", "root of the repository to fork (required)")
	module := flags.String("module", "", "Go module path of the fork (default example.com/<service>)")
	check := flags.Bool("check", false, "fork each service named into a temporary folder and run its make test")
	keep := flags.Bool("keep", false, "with -check, keep the forks that pass too")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: fork -repo <root> [-module <path>] <service> <dest>")
		fmt.Fprintln(stderr, "       fork -repo <root> -check [-keep] <service>...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *repo == "" || *check && flags.NArg() == 0 || !*check && flags.NArg() != 2 {
		flags.Usage()
		return 2
	}
	root, err := filepath.Abs(*repo)
	if err != nil {
		fmt.Fprintln(stderr, "fork:", err)
		return 1
	}

	if *check {
		err = checkForks(checkOptions{repo: root, services: flags.Args(), keep: *keep, stdout: stdout})
	} else {
		service, dest := flags.Arg(0), flags.Arg(1)
		if *module == "" {
			*module = "example.com/" + service
		}
		if dest, err = filepath.Abs(dest); err == nil {
			err = writeFork(options{repo: root, service: service, dest: dest, module: *module, log: stdout})
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "fork:", err)
		return 1
	}
	return 0
}
