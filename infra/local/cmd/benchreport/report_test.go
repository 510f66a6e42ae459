package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRowsPairEachHeadlineWithItsBaseline(t *testing.T) {
	rows, used := Rows(fixture(t))
	has := func(figure, bench, value, baseline, base, ratio string) {
		t.Helper()
		want := Row{Figure: figure, Benchmark: bench, Value: value, Baseline: baseline, Base: base, Ratio: ratio}
		for _, r := range rows {
			r.order = 0
			if r == want {
				return
			}
		}
		t.Errorf("no row %+v in:\n%s", want, dump(rows))
	}
	has("Ledger read", "GetAccount/events=10000/snapshots=off", "10000 items/op", "`GetAccount/events=10/snapshots=off`", "10.0 items/op", "1000×")
	has("Ledger read", "GetAccount/events=10000/snapshots=every-10", "2.39 ms/op", "`GetAccount/events=10/snapshots=every-10`", "19.7 ms/op", "0.121×")
	has("Import chain (in memory)", "Import1MLines/chain-of-10", "2.17 s/op", "`Import1MLines/uninterrupted`", "1.72 s/op", "1.26×")
	has("Import chain (DynamoDB Local)", "ChainOnDynamoDBLocal/chain-of-10", "10.0 invocations", "`ChainOnDynamoDBLocal/uninterrupted`", "1.00 invocations", "10.0×")
	has("Fan-in", "FanIn/items=10000", "4340 µs/item", "`FanIn/items=1000`", "13121 µs/item", "0.331×")
	has("Flag evaluation", "Evaluate", "1.56 µs/op", "`Price` (the whole GET /prices handler)", "8.03 µs/op", "0.195×")
	has("Signing", "SignPut", "53.8 µs/op", "`InvokeWarm` (one warm invoke through the local Runtime API)", "1.17 ms/op", "0.0462×")
	has("Counter", "Counter/transact/sharded-10", "10.3 ms/op", "`Counter/transact/hot-key`", "5.84 ms/op", "1.77×")

	for _, r := range rows {
		if strings.Contains(r.Value, "B/op") || strings.Contains(r.Value, "allocs/op") {
			t.Errorf("row %+v compares -benchmem figures", r)
		}
		if strings.Contains(r.Value, "conflicts") {
			t.Errorf("row %+v compares zero with zero", r)
		}
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].order < rows[i-1].order {
			t.Errorf("row %d (%s) before row %d (%s): want the figures' order", i-1, rows[i-1].Figure, i, rows[i].Figure)
		}
	}
	run := fixture(t)
	for _, name := range []string{"BenchmarkCheckText", "BenchmarkInvokeCold"} {
		if used[benchmark(t, run, name)] {
			t.Errorf("%s is paired; want it under other", name)
		}
	}
}

func TestRowsReadFiguresABenchmarkComparesItself(t *testing.T) {
	// The shapes of the fan-out worker's and the import chain's metrics: both compare within
	// one line, and the worker's sub-benchmarks are also siblings by work=.
	run, err := Parse(strings.NewReader(`pkg: example.com/fanout
BenchmarkWorker/records=side-by-side-2   	1	0 ns/op	2.31 s/batch(0ms)	2.57 s/batch(50ms)	1.11 ratio(50ms/0ms)	0 handed-back/item
BenchmarkWorkerOnAWSConflicts/record-concurrency=1/work=0ms-2   	1	0 ns/op	1.20 s/batch	416 items/s
BenchmarkWorkerOnAWSConflicts/record-concurrency=1/work=50ms-2  	1	0 ns/op	1.50 s/batch	333 items/s
BenchmarkFanOut/items=1000-2	1	11300000000 ns/op	11.3 s	10.0 ideal-s
pkg: example.com/imports
BenchmarkChainOverhead/links=10-2   	5	4000000000 ns/op	1.04 chain/uninterrupted
`))
	if err != nil {
		t.Fatal(err)
	}
	rows, used := Rows(run)
	want := []Row{
		{Figure: "Fan-out worker", Benchmark: "Worker/records=side-by-side", Value: "2.57 s/batch(50ms)", Baseline: "the same run at 0ms", Base: "2.31 s/batch(0ms)", Ratio: "1.11×"},
		{Figure: "Fan-out worker (DynamoDB's conflicts)", Benchmark: "WorkerOnAWSConflicts/record-concurrency=1/work=50ms", Value: "1.50 s/batch", Baseline: "`WorkerOnAWSConflicts/record-concurrency=1/work=0ms`", Base: "1.20 s/batch", Ratio: "1.25×"},
		{Figure: "Fan-out worker (DynamoDB's conflicts)", Benchmark: "WorkerOnAWSConflicts/record-concurrency=1/work=50ms", Value: "333 items/s", Baseline: "`WorkerOnAWSConflicts/record-concurrency=1/work=0ms`", Base: "416 items/s", Ratio: "0.8×"},
		{Figure: "Import chain", Benchmark: "ChainOverhead/links=10", Value: "", Baseline: "uninterrupted", Base: "", Ratio: "1.04×"},
		{Figure: "FanOut", Benchmark: "FanOut/items=1000", Value: "11.3 s", Baseline: "ideal", Base: "10.0 s", Ratio: "1.13×"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows:\n%s\nwant %d", dump(rows), len(want))
	}
	for i := range want {
		rows[i].order = 0
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v; want %+v", i, rows[i], want[i])
		}
	}
	for _, b := range run.Benchmarks {
		if !used[b] {
			t.Errorf("%s is left under other", b.Name)
		}
	}
}

func TestWrite(t *testing.T) {
	var out bytes.Buffer
	if err := Write(&out, fixture(t), "testdata/bench.txt"); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{
		"From `testdata/bench.txt` on linux/amd64, Oxide Virtual Turin-like Processor.",
		"> cold start: 34 programs, 7 rounds, GOMAXPROCS 2, load average before 7.05 8.12 7.87, after 3.73 6.92 7.47",
		"| Figure | Benchmark | Value | Baseline (same run) | Baseline value | Ratio |",
		"| Ledger read | `GetAccount/events=10000/snapshots=off` | 10000 items/op | `GetAccount/events=10/snapshots=off` | 10.0 items/op | 1000× |",
		"- hello floor (a bare aws-lambda-go main): 14.3 ms median (12.3 ms–23.6 ms)",
		"- SDK floor (AWS config, logger, one DynamoDB client): 24.1 ms median (18.9 ms–33.2 ms)",
		"| GetJobFunction | 29.7 ms | 23.4 ms–36.2 ms | 2.08× | 1.23× |",
		"| GetPriceFunction (FlagSource=polling,unreachable) | 3047 ms | 3034 ms–3067 ms | 213× | 126× |",
		"| `BenchmarkCheckText` | uploads | 1.60 ms/op, 681 MB/s, 73776 B/op, 3.00 allocs/op |",
		"| `BenchmarkInvokeCold` | lambdapool | 28.6 ms/op, 96285 B/op, 386 allocs/op |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	for _, unwanted := range []string{"| hello-floor |", "| sdk-floor |", "`BenchmarkInvokeWarm` |", "`BenchmarkColdStart"} {
		if strings.Contains(report, unwanted) {
			t.Errorf("report has %q: floors and baselines belong next to what they are the baseline of", unwanted)
		}
	}
}

func TestRunWritesTheReportToStdoutAndTheFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.md")
	var stdout bytes.Buffer
	if err := run(&stdout, nil, out, []string{"testdata/bench.txt"}); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, stdout.Bytes()) || !bytes.HasPrefix(written, []byte("# Benchmark report")) {
		t.Errorf("file and stdout differ or are not the report:\n%s\n---\n%s", written, stdout.Bytes())
	}
	if err := run(&stdout, strings.NewReader("PASS\nok  \texample.com/x\t0.1s\n"), "", nil); err == nil {
		t.Error("run accepted output with no benchmark in it")
	}
}

func dump(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join([]string{r.Figure, r.Benchmark, r.Value, r.Baseline, r.Base, r.Ratio}, " | "))
		b.WriteByte('\n')
	}
	return b.String()
}
