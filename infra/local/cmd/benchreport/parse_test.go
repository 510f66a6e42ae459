package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// fixture is real `make bench` output, cut down (testdata/bench.txt).
func fixture(t *testing.T) *Run {
	t.Helper()
	f, err := os.Open("testdata/bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func benchmark(t *testing.T, run *Run, name string) *Benchmark {
	t.Helper()
	b := find(run, func(b *Benchmark) bool { return b.Name == name })
	if b == nil {
		t.Fatalf("no benchmark %s in %v", name, names(run))
	}
	return b
}

func names(run *Run) []string {
	var out []string
	for _, b := range run.Benchmarks {
		out = append(out, b.Name)
	}
	return out
}

func TestParseReadsEveryBenchmarkLine(t *testing.T) {
	run := fixture(t)
	if got, want := len(run.Benchmarks), 29; got != want {
		t.Fatalf("%d benchmarks; want %d: %v", got, want, names(run))
	}
	if run.GOOS != "linux" || run.GOARCH != "amd64" || run.CPU != "Oxide Virtual Turin-like Processor" {
		t.Errorf("header = %q %q %q; want linux amd64 and the cpu line", run.GOOS, run.GOARCH, run.CPU)
	}
	if len(run.LoadAverages) != 1 || !strings.HasPrefix(run.LoadAverages[0], "cold start: 34 programs") {
		t.Errorf("load averages = %q; want the cold-start benchmark's line", run.LoadAverages)
	}

	for _, tc := range []struct {
		name, pkg, unit string
		want            float64
	}{
		{"BenchmarkGetAccount/events=10000/snapshots=off", "github.com/go-serverless/reference/services/ledger/internal/ledger", "items/op", 10000},
		{"BenchmarkGetAccount/events=10000/snapshots=off", "github.com/go-serverless/reference/services/ledger/internal/ledger", "ns/op", 278893393},
		{"BenchmarkImport1MLines/chain-of-10", "github.com/go-serverless/reference/services/imports/internal/imports", "invocations", 10},
		{"BenchmarkFanIn/items=1000", "github.com/go-serverless/reference/services/fanout/internal/fanout", "µs/item", 13121},
		{"BenchmarkCheckText", "github.com/go-serverless/reference/services/uploads/internal/uploads", "MB/s", 681.48},
		{"BenchmarkColdStart/GetPriceFunction/FlagSource=polling,unreachable", "github.com/go-serverless/reference/infra/local/internal/inittime", "ms-median", 3047},
	} {
		b := benchmark(t, run, tc.name)
		if b.Pkg != tc.pkg {
			t.Errorf("%s: package %s; want %s", tc.name, b.Pkg, tc.pkg)
		}
		if got, ok := b.Value(tc.unit); !ok || got != tc.want {
			t.Errorf("%s: %s = %v (%v); want %v", tc.name, tc.unit, got, ok, tc.want)
		}
	}
	if got, want := benchmark(t, run, "BenchmarkSignPut").Units, []string{"ns/op", "B/op", "allocs/op"}; !slices.Equal(got, want) {
		t.Errorf("SignPut units = %v; want %v, in the order printed", got, want)
	}
}

func TestParseKeepsTheProcsSuffixWhenNotEveryNameHasIt(t *testing.T) {
	// GOMAXPROCS 1: go test adds no suffix, and chain-of-10 ends in "-10" of its own.
	run, err := Parse(strings.NewReader(`pkg: example.com/imports
BenchmarkImport1MLines/uninterrupted   	       1	1719215537 ns/op	         1.000 invocations
BenchmarkImport1MLines/chain-of-10     	       1	2173455661 ns/op	        10.00 invocations
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(run), []string{"BenchmarkImport1MLines/uninterrupted", "BenchmarkImport1MLines/chain-of-10"}; !slices.Equal(got, want) {
		t.Errorf("names = %v; want %v", got, want)
	}
}

func TestParseMergesRepeatedLinesToTheirMedian(t *testing.T) {
	// -count=3
	run, err := Parse(strings.NewReader(`BenchmarkEvaluate-2   	  766899	      1563 ns/op
BenchmarkEvaluate-2   	  766899	      1400 ns/op
BenchmarkEvaluate-2   	  766899	      9000 ns/op
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Benchmarks) != 1 {
		t.Fatalf("benchmarks = %v; want one", names(run))
	}
	if got, _ := run.Benchmarks[0].Value("ns/op"); got != 1563 {
		t.Errorf("ns/op = %v; want the median, 1563", got)
	}
}

func TestParseJoinsANameToResultsOnALaterLine(t *testing.T) {
	// A benchmark that writes to standard output splits its name from its results.
	run, err := Parse(strings.NewReader("BenchmarkPrice-2      \t{\"level\":\"INFO\",\"msg\":\"price\"}\n  148360\t      8030 ns/op\t    2906 B/op\t      27 allocs/op\nBenchmarkEvaluate-2   \t  766899\t      1563 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(run), []string{"BenchmarkPrice", "BenchmarkEvaluate"}; !slices.Equal(got, want) {
		t.Fatalf("names = %v; want %v", got, want)
	}
	if got, _ := run.Benchmarks[0].Value("allocs/op"); got != 27 {
		t.Errorf("Price allocs/op = %v; want 27", got)
	}
}
