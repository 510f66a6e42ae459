package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// figures names the headline figures by top-level benchmark, in the order the report lists them.
// A benchmark not named here still gets rows when it pairs; it is then listed under its own name.
var figures = []struct{ benchmark, figure string }{
	{"BenchmarkWorker", "Fan-out worker"},
	{"BenchmarkWorkerOnAWSConflicts", "Fan-out worker (DynamoDB's conflicts)"},
	{"BenchmarkFanIn", "Fan-in"},
	{"BenchmarkGetAccount", "Ledger read"},
	{"BenchmarkChainOverhead", "Import chain"},
	{"BenchmarkImport1MLines", "Import chain (in memory)"},
	{"BenchmarkChainOnDynamoDBLocal", "Import chain (DynamoDB Local)"},
	{"BenchmarkEvaluate", "Flag evaluation"},
	{"BenchmarkSignPut", "Signing"},
}

// explicitBaselines pairs benchmarks that have no sibling to compare with: the baseline is a
// benchmark elsewhere in the run that puts the figure in proportion.
var explicitBaselines = []struct{ benchmark, baseline, what string }{
	// Evaluation is one step of the request: the share it takes.
	{"BenchmarkEvaluate", "BenchmarkPrice", "the whole GET /prices handler"},
	// Signing is local computation; a warm invoke is the least a request costs locally.
	{"BenchmarkSignPut", "BenchmarkInvokeWarm", "one warm invoke through the local Runtime API"},
}

// namedBaselines are sub-benchmark names that are the baseline of their siblings.
var namedBaselines = []string{"uninterrupted", "baseline", "ideal", "hot-key"}

// Cold-start benchmark names (infra/local/internal/inittime).
const (
	coldStart  = "BenchmarkColdStart"
	helloFloor = "hello-floor"
	sdkFloor   = "sdk-floor"
)

// Row is one line of the headline table: a figure next to its baseline from the same run.
type Row struct {
	Figure    string
	Benchmark string // the headline benchmark, without its Benchmark prefix
	Value     string // the figure with its unit; "" when the benchmark reported only the ratio
	Baseline  string // what it is compared with
	Base      string // the baseline's figure; "" when the benchmark reported only the ratio
	Ratio     string // Value over Base
	order     int
}

// Rows pairs every benchmark of run that has a baseline and reports which benchmarks the rows,
// or the cold-start table, use; the rest are "other". The pairings, in the order tried:
//
//   - on the benchmark's own line: a unit "ideal-U" with U; a unit "ratio(A/B)" with the units
//     "P(A)" and "P(B)" (s/batch(50ms) and s/batch(0ms)); a unit "X/B" where B names a baseline
//     (chain/uninterrupted), which is a ratio already;
//   - an explicit baseline elsewhere in the run (explicitBaselines);
//   - a sibling whose differing element names a baseline (uninterrupted, hot-key, ...);
//   - for each element key=quantity, the sibling with the smallest quantity of that key.
//
// Pairs with another benchmark are compared in ns/op and every custom unit both report.
func Rows(run *Run) ([]Row, map[*Benchmark]bool) {
	used := map[*Benchmark]bool{}
	var rows []Row
	seen := map[[2]*Benchmark]bool{}
	compare := func(b, base *Benchmark, what string) {
		key := [2]*Benchmark{b, base}
		if b == base || seen[key] {
			return
		}
		seen[key] = true
		baseName := "`" + short(base) + "`"
		if what != "" {
			baseName += " (" + what + ")"
		}
		for _, u := range shared(b, base) {
			v, _ := b.Value(u)
			bv, _ := base.Value(u)
			rows = append(rows, row(b, format(v, u), baseName, format(bv, u), ratio(v, bv)))
			used[b], used[base] = true, true
		}
	}
	for _, b := range run.Benchmarks {
		if b.Elements()[0] == coldStart {
			used[b] = true
			continue
		}
		for _, u := range b.Units {
			v, _ := b.Value(u)
			if base, ok := idealOf(u); ok && slices.Contains(b.Units, base) {
				bv, _ := b.Value(base)
				rows = append(rows, row(b, format(bv, base), "ideal", format(v, base), ratio(bv, v)))
				used[b] = true
			}
			if a, z, ok := reportedRatio(u); ok {
				value, base := "", ""
				if pa, pz, ok := ratioOperands(b, a, z); ok {
					va, _ := b.Value(pa)
					vz, _ := b.Value(pz)
					value, base = format(va, pa), format(vz, pz)
				}
				rows = append(rows, row(b, value, "the same run at "+z, base, trim(v)+"×"))
				used[b] = true
			}
			if _, z, ok := strings.Cut(u, "/"); ok && slices.Contains(namedBaselines, z) {
				rows = append(rows, row(b, "", z, "", trim(v)+"×"))
				used[b] = true
			}
		}
		for _, e := range explicitBaselines {
			if b.Name != e.benchmark {
				continue
			}
			if base := find(run, func(c *Benchmark) bool { return c.Name == e.baseline }); base != nil {
				compare(b, base, e.what)
			}
		}
		if base := namedSibling(run, b); base != nil {
			compare(b, base, "")
		}
		for _, base := range smallestSiblings(run, b) {
			compare(b, base, "")
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return a.order - b.order })
	return rows, used
}

// row makes a Row for benchmark b, ordered by its figure.
func row(b *Benchmark, value, baseline, base, ratio string) Row {
	order := len(figures)
	for i, f := range figures {
		if b.Elements()[0] == f.benchmark {
			order = i
		}
	}
	return Row{Figure: figureOf(b), Benchmark: short(b), Value: value, Baseline: baseline, Base: base, Ratio: ratio, order: order}
}

// reportedRatio reads a unit "ratio(A/B)".
func reportedRatio(unit string) (string, string, bool) {
	inner, ok := strings.CutPrefix(unit, "ratio(")
	if !ok {
		return "", "", false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return "", "", false
	}
	return strings.Cut(inner, "/")
}

// ratioOperands finds the units "P(a)" and "P(z)" of b, the figures a reported ratio divides.
func ratioOperands(b *Benchmark, a, z string) (string, string, bool) {
	for _, u := range b.Units {
		if prefix, ok := strings.CutSuffix(u, "("+a+")"); ok && prefix != "ratio" && slices.Contains(b.Units, prefix+"("+z+")") {
			return u, prefix + "(" + z + ")", true
		}
	}
	return "", "", false
}

// selfCompared reports units a benchmark compares within its own line, which are not compared
// with another benchmark's.
func selfCompared(unit string) bool {
	if _, ok := idealOf(unit); ok {
		return true
	}
	if _, _, ok := reportedRatio(unit); ok {
		return true
	}
	_, z, ok := strings.Cut(unit, "/")
	return ok && slices.Contains(namedBaselines, z)
}

func figureOf(b *Benchmark) string {
	top := b.Elements()[0]
	for _, f := range figures {
		if f.benchmark == top {
			return f.figure
		}
	}
	return strings.TrimPrefix(top, "Benchmark")
}

func find(run *Run, match func(*Benchmark) bool) *Benchmark {
	for _, b := range run.Benchmarks {
		if match(b) {
			return b
		}
	}
	return nil
}

// siblings reports whether a and b are sub-benchmarks of the same parent in the same package
// that differ only in element i.
func siblings(a, b *Benchmark, i int) bool {
	ea, eb := a.Elements(), b.Elements()
	if a == b || a.Pkg != b.Pkg || len(ea) != len(eb) || i >= len(ea) {
		return false
	}
	for j := range ea {
		if j != i && ea[j] != eb[j] {
			return false
		}
	}
	return ea[i] != eb[i]
}

// namedSibling is the sibling of b whose differing element is a baseline name
// (chain-of-10 → uninterrupted).
func namedSibling(run *Run, b *Benchmark) *Benchmark {
	e := b.Elements()
	for i := 1; i < len(e); i++ {
		if slices.Contains(namedBaselines, e[i]) {
			continue
		}
		if base := find(run, func(c *Benchmark) bool {
			return siblings(b, c, i) && slices.Contains(namedBaselines, c.Elements()[i])
		}); base != nil {
			return base
		}
	}
	return nil
}

// smallestSiblings pairs b, for each element of the form key=quantity (events=10000,
// work=50ms), with the sibling that has the smallest quantity of that key: the same run at the
// smallest scale, or with zero work.
func smallestSiblings(run *Run, b *Benchmark) []*Benchmark {
	var out []*Benchmark
	e := b.Elements()
	for i := 1; i < len(e); i++ {
		key, q, ok := quantity(e[i])
		if !ok {
			continue
		}
		var best *Benchmark
		bestQ := q
		for _, c := range run.Benchmarks {
			if !siblings(b, c, i) {
				continue
			}
			if ck, cq, ok := quantity(c.Elements()[i]); ok && ck == key && cq < bestQ {
				best, bestQ = c, cq
			}
		}
		if best != nil {
			out = append(out, best)
		}
	}
	return out
}

// quantity reads a "key=value" element whose value is a number (10_000, 1,000, 0.5) or a
// duration (50ms).
func quantity(element string) (string, float64, bool) {
	key, value, ok := strings.Cut(element, "=")
	if !ok || key == "" {
		return "", 0, false
	}
	clean := strings.NewReplacer("_", "", ",", "").Replace(value)
	if f, err := strconv.ParseFloat(clean, 64); err == nil {
		return key, f, true
	}
	if d, err := time.ParseDuration(clean); err == nil {
		return key, float64(d), true
	}
	return "", 0, false
}

// idealOf reads a unit naming an ideal ("ideal-s", "ideal-ms/op", "s-ideal") and returns the unit
// it is the ideal of.
func idealOf(unit string) (string, bool) {
	for _, affix := range []string{"ideal-", "ideal_"} {
		if base, ok := strings.CutPrefix(unit, affix); ok && base != "" {
			return base, true
		}
	}
	if base, ok := strings.CutSuffix(unit, "-ideal"); ok && base != "" {
		return base, true
	}
	return "", false
}

// shared are the units a pair is compared in: ns/op when both report it (and it is not the
// zero a benchmark reports to hide it), then the custom units both report. B/op and allocs/op
// (from -benchmem) and throughputs stay in the benchmark lines.
func shared(a, b *Benchmark) []string {
	var out []string
	for _, u := range a.Units {
		switch {
		case u == "B/op" || u == "allocs/op" || u == "MB/s":
			continue
		case !slices.Contains(b.Units, u):
			continue
		}
		if selfCompared(u) {
			continue
		}
		va, _ := a.Value(u)
		vb, _ := b.Value(u)
		if (u == "ns/op" && va == 0) || (va == 0 && vb == 0) {
			continue // hidden, or nothing to compare (no conflicts on either side)
		}
		out = append(out, u)
	}
	return out
}

// Write renders the report as Markdown: the headline figures with their baselines, the cold
// start of every function against the two floors, and the benchmarks that paired with nothing.
func Write(w io.Writer, run *Run, source string) error {
	rows, used := Rows(run)
	var b strings.Builder
	b.WriteString("# Benchmark report\n\n")
	fmt.Fprintf(&b, "From `%s`", source)
	if run.CPU != "" {
		fmt.Fprintf(&b, " on %s/%s, %s", run.GOOS, run.GOARCH, run.CPU)
	}
	b.WriteString(". Every ratio is between two figures of this one run; the ratios, round trips and items read carry over to AWS, the milliseconds do not.\n")
	for _, l := range run.LoadAverages {
		fmt.Fprintf(&b, "\n> %s\n", l)
	}

	b.WriteString("\n## Headline figures\n\n")
	if len(rows) == 0 {
		b.WriteString("No benchmark of this run pairs with a baseline.\n")
	} else {
		b.WriteString("| Figure | Benchmark | Value | Baseline (same run) | Baseline value | Ratio |\n|---|---|---:|---|---:|---:|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s |\n", r.Figure, r.Benchmark, dash(r.Value), r.Baseline, dash(r.Base), r.Ratio)
		}
	}

	writeColdStarts(&b, run)

	var other []*Benchmark
	for _, bench := range run.Benchmarks {
		if !used[bench] {
			other = append(other, bench)
		}
	}
	if len(other) > 0 {
		b.WriteString("\n## Other\n\nBenchmarks with no baseline in this run, as measured.\n\n| Benchmark | Package | Figures |\n|---|---|---|\n")
		for _, bench := range other {
			var figs []string
			for _, u := range bench.Units {
				v, _ := bench.Value(u)
				if u == "ns/op" && v == 0 {
					continue
				}
				figs = append(figs, format(v, u))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", bench.Name, lastPart(bench.Pkg), strings.Join(figs, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeColdStarts writes the cold-start table: each function's exec → first /next against the
// two floors of the same rounds, as BenchmarkColdStart reported them.
func writeColdStarts(b *strings.Builder, run *Run) {
	var rows []*Benchmark
	var hello, sdk *Benchmark
	for _, bench := range run.Benchmarks {
		e := bench.Elements()
		if e[0] != coldStart || len(e) < 2 {
			continue
		}
		switch strings.Join(e[1:], "/") {
		case helloFloor:
			hello = bench
		case sdkFloor:
			sdk = bench
		default:
			rows = append(rows, bench)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Cold start (exec → first /runtime/invocation/next)\n\n")
	for _, floor := range []struct {
		b    *Benchmark
		what string
	}{{hello, "hello floor (a bare aws-lambda-go main)"}, {sdk, "SDK floor (AWS config, logger, one DynamoDB client)"}} {
		if floor.b == nil {
			continue
		}
		fmt.Fprintf(b, "- %s: %s median (%s–%s)\n", floor.what, ms(floor.b, "ms-median"), ms(floor.b, "ms-min"), ms(floor.b, "ms-max"))
	}
	b.WriteString("\n| Function | Median | Min–max | × hello floor | × SDK floor |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		name := strings.Join(r.Elements()[1:], "/")
		if fn, variant, ok := strings.Cut(name, "/"); ok {
			name = fn + " (" + variant + ")"
		}
		xHello, _ := r.Value("x-hello")
		xSDK, _ := r.Value("x-sdk")
		fmt.Fprintf(b, "| %s | %s | %s–%s | %s× | %s× |\n", name, ms(r, "ms-median"), ms(r, "ms-min"), ms(r, "ms-max"), trim(xHello), trim(xSDK))
	}
}

func ms(b *Benchmark, unit string) string {
	v, ok := b.Value(unit)
	if !ok {
		return "?"
	}
	return trim(v) + " ms"
}

// short is a benchmark's name without the Benchmark prefix.
func short(b *Benchmark) string { return strings.TrimPrefix(b.Name, "Benchmark") }

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func lastPart(pkg string) string {
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		return pkg[i+1:]
	}
	return pkg
}

func ratio(v, base float64) string {
	if base == 0 || math.IsNaN(v/base) {
		return "–"
	}
	return trim(v/base) + "×"
}

// format writes a figure with its unit; times per op in the unit that reads best.
func format(v float64, unit string) string {
	if unit == "ns/op" {
		d := time.Duration(v)
		switch {
		case d >= time.Second:
			return trim(v/1e9) + " s/op"
		case d >= time.Millisecond:
			return trim(v/1e6) + " ms/op"
		case d >= time.Microsecond:
			return trim(v/1e3) + " µs/op"
		}
	}
	return trim(v) + " " + unit
}

// trim prints three significant digits, without a trailing ".0".
func trim(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
