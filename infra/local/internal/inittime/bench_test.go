package inittime

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/template"
)

var (
	rounds = flag.Int("inittime.rounds", 15, "timed rounds of BenchmarkColdStart; each starts every program once")
	// Relative to this package's directory, where go test runs it.
	samplesFile = flag.String("inittime.samples", filepath.Join("..", "..", "..", "..", ".cache", "bench", "coldstart.json"),
		"where BenchmarkColdStart writes every sample as JSON (empty: nowhere)")
)

// outsideServiceParameters are the parameters infra/local/parameters.json overrides so that a
// local run needs no service outside AWS; on AWS they keep the template's defaults.
var outsideServiceParameters = []string{"FlagSource", "FlagsFile"}

// launchDarklyHosts are the hosts the pricing functions' LaunchDarkly client calls in polling
// mode (flag data, analytics and diagnostic events).
var launchDarklyHosts = []string{"*.launchdarkly.com"}

// BenchmarkColdStart times exec → first /runtime/invocation/next for every function of
// template.yaml, next to the hello floor and the SDK floor started in the same rounds. The
// rounds are internal (-inittime.rounds, default 15), so one iteration is the whole measurement:
//
//	go test -run '^$' -bench ColdStart -benchtime=1x ./internal/inittime/
//
// Each sub-benchmark reports one program: ms-min, ms-median and ms-max over the rounds, and the
// median as a multiple of the hello floor's (x-hello) and of the SDK floor's (x-sdk).
//
// Functions run with the local parameters (infra/local/parameters.json, as `make run` does),
// which read feature flags from a file. On AWS the template's default flag source polls
// LaunchDarkly after reading the SDK key from SSM, both in the cold start, so every function
// whose environment depends on that choice is timed twice more with the template's default:
// <Function>/FlagSource=polling with SSM and LaunchDarkly answering at once (local stand-ins),
// and <Function>/FlagSource=polling,unreachable with neither ever answering. The benchmark
// measures; it asserts no time.
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := template.LoadApp(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		b.Fatal(err)
	}
	params, err := LocalParameters(root)
	if err != nil {
		b.Fatal(err)
	}
	local, err := Bindings(tmpl, params)
	if err != nil {
		b.Fatal(err)
	}
	// The parameters as deployed: the local ones without those that avoid outside services. The
	// variant is named after the defaults that apply instead (FlagSource=polling).
	deployed := maps.Clone(params)
	var defaults []string
	for _, name := range outsideServiceParameters {
		delete(deployed, name)
		if d, ok := tmpl.Parameters[name].Default.(string); ok && d != "" {
			defaults = append(defaults, name+"="+d)
		}
	}
	variant := strings.Join(defaults, ",")
	if variant == "" {
		variant = "template-defaults"
	}
	onAWS, err := Bindings(tmpl, deployed)
	if err != nil {
		b.Fatal(err)
	}

	dir := b.TempDir()
	binaries, err := BuildFunctions(ctx, root, filepath.Join(dir, "functions"), fns)
	if err != nil {
		b.Fatal(err)
	}
	floors, err := Build(ctx, ".", filepath.Join(dir, "floors"), "./floors/hello", "./floors/sdk")
	if err != nil {
		b.Fatal(err)
	}

	reachable, unreachable := endpoints(b, dir)
	programs := []Program{
		{Name: "hello-floor", Executable: floors["./floors/hello"], Env: reachable},
		{Name: "sdk-floor", Executable: floors["./floors/sdk"], Env: reachable},
	}
	for _, fn := range fns {
		env, err := Environment(local, fn)
		if err != nil {
			b.Fatal(err)
		}
		p := Program{
			Name: fn.LogicalID, FunctionName: StackName + "-" + fn.LogicalID, Executable: binaries[fn.LogicalID],
			MemoryMB: fn.MemoryMB, LogFormat: fn.LogFormat, LogLevel: fn.LogLevel,
		}
		programs = append(programs, with(p, "", env, reachable))
		deployedEnv, err := Environment(onAWS, fn)
		if err != nil {
			b.Fatal(err)
		}
		if !maps.Equal(env, deployedEnv) {
			programs = append(programs,
				with(p, variant, deployedEnv, reachable),
				with(p, variant+",unreachable", deployedEnv, unreachable))
		}
	}

	loadBefore := loadAverage()
	results, err := Measure(ctx, programs, Options{Rounds: *rounds})
	if err != nil {
		b.Fatal(err)
	}
	loadAfter := loadAverage()
	// On standard output, not b.Log: a benchmark with sub-benchmarks prints its log only when it
	// fails, and the conditions of the run belong next to its figures (benchreport shows them).
	fmt.Printf("cold start: %d programs, %d rounds, GOMAXPROCS %d, load average before %s, after %s\n",
		len(programs), *rounds, runtime.GOMAXPROCS(0), loadBefore, loadAfter)

	hello, sdk := results[0].Median(), results[1].Median()
	for _, r := range results {
		b.Run(r.Name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op") // no per-iteration time: the rounds above are the measurement
			b.ReportMetric(ms(r.Min()), "ms-min")
			b.ReportMetric(ms(r.Median()), "ms-median")
			b.ReportMetric(ms(r.Max()), "ms-max")
			b.ReportMetric(float64(r.Median())/float64(hello), "x-hello")
			b.ReportMetric(float64(r.Median())/float64(sdk), "x-sdk")
		})
	}
	if *samplesFile != "" {
		if err := writeSamples(*samplesFile, results, loadBefore, loadAfter); err != nil {
			b.Fatal(err)
		}
	}
}

// endpoints starts the stand-ins for what a cold start may call and returns the environment of
// a program that reaches them and of one that reaches nothing.
func endpoints(b *testing.B, dir string) (reachable, unreachable map[string]string) {
	quick, hanging := NewAWSEndpoint(false), NewAWSEndpoint(true)
	b.Cleanup(quick.Close)
	b.Cleanup(hanging.Close)
	online, err := NewInternet(dir, false, launchDarklyHosts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(online.Close)
	offlineDir := filepath.Join(dir, "offline")
	if err := os.MkdirAll(offlineDir, 0o755); err != nil {
		b.Fatal(err)
	}
	offline, err := NewInternet(offlineDir, true, launchDarklyHosts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(offline.Close)
	reachable, unreachable = quick.Env(), hanging.Env()
	maps.Copy(reachable, online.Env())
	maps.Copy(unreachable, offline.Env())
	return reachable, unreachable
}

// with returns p as variant (its name suffixed) with env and then endpoints as its environment.
func with(p Program, variant string, env, endpoints map[string]string) Program {
	if variant != "" {
		p.Name += "/" + variant
	}
	p.Env = maps.Clone(env)
	maps.Copy(p.Env, endpoints)
	return p
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadAverage is the host's 1, 5 and 15 minute load averages, "" where /proc has none.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// writeSamples writes every sample of the run, for a closer look than the benchmark lines give.
func writeSamples(path string, results []Result, loadBefore, loadAfter string) error {
	type program struct {
		Name      string    `json:"name"`
		SamplesMS []float64 `json:"samplesMs"`
		MedianMS  float64   `json:"medianMs"`
	}
	doc := struct {
		Rounds     int       `json:"rounds"`
		GOMAXPROCS int       `json:"gomaxprocs"`
		LoadBefore string    `json:"loadAverageBefore"`
		LoadAfter  string    `json:"loadAverageAfter"`
		Programs   []program `json:"programs"`
	}{Rounds: *rounds, GOMAXPROCS: runtime.GOMAXPROCS(0), LoadBefore: loadBefore, LoadAfter: loadAfter}
	for _, r := range results {
		p := program{Name: r.Name, MedianMS: ms(r.Median())}
		for _, s := range r.Samples {
			p.SamplesMS = append(p.SamplesMS, ms(s))
		}
		doc.Programs = append(doc.Programs, p)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
