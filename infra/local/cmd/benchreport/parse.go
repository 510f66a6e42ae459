package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Benchmark is one benchmark of a run: every line go test printed for it (one per -count),
// merged.
type Benchmark struct {
	// Pkg is the import path of the benchmark's package (the "pkg:" line before it).
	Pkg string
	// Name is the full name without the -GOMAXPROCS suffix: BenchmarkGetAccount/events=10.
	Name string
	// Units are the units the lines reported, in the order first printed.
	Units  []string
	values map[string][]float64
}

// Value is the median of what the benchmark's lines reported in unit.
func (b *Benchmark) Value(unit string) (float64, bool) {
	v := slices.Sorted(slices.Values(b.values[unit]))
	switch n := len(v); {
	case n == 0:
		return 0, false
	case n%2 == 1:
		return v[n/2], true
	default:
		return (v[n/2-1] + v[n/2]) / 2, true
	}
}

// Elements are the parts of the name: the top-level benchmark, then each sub-benchmark.
func (b *Benchmark) Elements() []string { return strings.Split(b.Name, "/") }

// Run is what a `go test -bench` output holds.
type Run struct {
	// GOOS, GOARCH and CPU are from the header lines go test prints for each package.
	GOOS, GOARCH, CPU string
	// LoadAverages are the log lines of benchmarks that mention the load average.
	LoadAverages []string
	// Benchmarks are in the order first printed.
	Benchmarks []*Benchmark
}

var (
	// A result line: name, iterations, then value-unit pairs. Go prints the results on the
	// name's line unless the benchmark itself wrote to stdout in between.
	resultLine = regexp.MustCompile(`^(Benchmark\S*)\s+(\d+)((?:\s+[-+0-9.eE]+\s+\S+)+)\s*$`)
	// The name alone, when the benchmark's own output followed it on the line.
	nameOnly = regexp.MustCompile(`^(Benchmark\S*)(?:\s|$)`)
	// The results alone, on a later line than the name.
	resultsOnly = regexp.MustCompile(`^\s*(\d+)((?:\s+[-+0-9.eE]+\s+\S+)+)\s*$`)
	procs       = regexp.MustCompile(`-(\d+)$`)
	// The file:line a b.Log line starts with.
	logPrefix = regexp.MustCompile(`^\S+\.go:\d+: `)
)

type line struct {
	pkg, name string
	metrics   [][2]string // value, unit
}

// Parse reads go test -bench output (the standard text format; `go test -json` output is not
// read) and merges the lines of each benchmark. Lines that are not benchmark results are
// skipped, apart from the header lines and load averages Run keeps.
func Parse(r io.Reader) (*Run, error) {
	run := &Run{}
	var lines []line
	var pkg, pending string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if m := resultLine.FindStringSubmatch(text); m != nil {
			lines = append(lines, line{pkg: pkg, name: m[1], metrics: pairsOf(m[3])})
			pending = ""
			continue
		}
		if m := resultsOnly.FindStringSubmatch(text); m != nil && pending != "" {
			lines = append(lines, line{pkg: pkg, name: pending, metrics: pairsOf(m[2])})
			pending = ""
			continue
		}
		if m := nameOnly.FindStringSubmatch(text); m != nil {
			pending = m[1]
			continue
		}
		switch {
		case strings.HasPrefix(text, "pkg: "):
			pkg = strings.TrimPrefix(text, "pkg: ")
		case strings.HasPrefix(text, "goos: "):
			run.GOOS = strings.TrimPrefix(text, "goos: ")
		case strings.HasPrefix(text, "goarch: "):
			run.GOARCH = strings.TrimPrefix(text, "goarch: ")
		case strings.HasPrefix(text, "cpu: "):
			run.CPU = strings.TrimSpace(strings.TrimPrefix(text, "cpu: "))
		case strings.Contains(trimmed, "load average"):
			run.LoadAverages = append(run.LoadAverages, logPrefix.ReplaceAllString(trimmed, ""))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}

	suffix := procsSuffix(lines)
	byKey := map[string]*Benchmark{}
	for _, l := range lines {
		name := strings.TrimSuffix(l.name, suffix)
		key := l.pkg + " " + name
		b, ok := byKey[key]
		if !ok {
			b = &Benchmark{Pkg: l.pkg, Name: name, values: map[string][]float64{}}
			byKey[key] = b
			run.Benchmarks = append(run.Benchmarks, b)
		}
		for _, m := range l.metrics {
			v, err := strconv.ParseFloat(m[0], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: %s %s: %w", name, m[0], m[1], err)
			}
			if _, seen := b.values[m[1]]; !seen {
				b.Units = append(b.Units, m[1])
			}
			b.values[m[1]] = append(b.values[m[1]], v)
		}
	}
	return run, nil
}

// pairsOf splits "  12 ns/op  3.5 items/op" into value-unit pairs.
func pairsOf(s string) [][2]string {
	f := strings.Fields(s)
	out := make([][2]string, 0, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		out = append(out, [2]string{f[i], f[i+1]})
	}
	return out
}

// procsSuffix is the "-N" go test appends to every benchmark name when GOMAXPROCS is N > 1.
// Nothing marks it as such, and names may end in "-10" themselves (chain-of-10), so it is taken
// to be a suffix only when every line of the run ends in the same one; with GOMAXPROCS 1 there
// is none.
func procsSuffix(lines []line) string {
	suffix := ""
	for i, l := range lines {
		m := procs.FindString(l.name)
		if m == "" || (i > 0 && m != suffix) {
			return ""
		}
		suffix = m
	}
	return suffix
}
