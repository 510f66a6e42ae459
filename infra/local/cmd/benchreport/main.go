// Command benchreport turns the output of `go test -bench` into one Markdown report in which
// every headline figure stands next to its baseline from the same run, with the ratio: cold
// start per function against the hello and SDK floors, fan-in against its ideal or its zero-work
// run, a ledger read of a long history against a short one, an import chain against one
// uninterrupted run, flag evaluation against the request it is part of, signing against a warm
// invoke. `make bench` runs every benchmark, keeps their output in .cache/bench/bench.txt and
// ends with this report in .cache/bench/report.md.
//
//	benchreport [-o report.md] bench.txt...
//
// Benchmarks are paired by name, not by a list of every benchmark, so that a benchmark that is
// renamed or added still shows: a sub-benchmark pairs with a sibling named uninterrupted,
// baseline, ideal or hot-key; a sub-benchmark key=quantity (events=10000, work=50ms) with the
// sibling of the smallest quantity; a metric "ideal-<unit>" with the <unit> of its own line; and
// a few benchmarks with no sibling with a named baseline elsewhere in the run. What pairs with
// nothing is listed under "Other", as measured.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	out := flag.String("o", "", "also write the report to this file")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: benchreport [-o report.md] bench.txt... (- or nothing: standard input)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(os.Stdout, os.Stdin, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run reads the benchmark output in files (stdin when none), writes the report to stdout and,
// when out is set, to that file.
func run(stdout io.Writer, stdin io.Reader, out string, files []string) error {
	var input io.Reader = stdin
	source := "standard input"
	if len(files) > 0 && !(len(files) == 1 && files[0] == "-") {
		var readers []io.Reader
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			readers = append(readers, bytes.NewReader(data), strings.NewReader("\n"))
		}
		input = io.MultiReader(readers...)
		source = strings.Join(files, ", ")
	}
	parsed, err := Parse(input)
	if err != nil {
		return err
	}
	if len(parsed.Benchmarks) == 0 {
		return fmt.Errorf("no benchmark results in %s", source)
	}
	var report bytes.Buffer
	if err := Write(&report, parsed, source); err != nil {
		return err
	}
	if out != "" {
		if err := os.WriteFile(out, report.Bytes(), 0o644); err != nil {
			return err
		}
	}
	_, err = stdout.Write(report.Bytes())
	return err
}
