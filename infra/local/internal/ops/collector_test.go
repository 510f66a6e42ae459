package ops

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time { return t0 }
}

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100, 99, ..., 1: order must not matter
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    int
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p50 of four", ms(40, 10, 30, 20), 50, 20 * time.Millisecond},
		{"p99 of four is the largest", ms(40, 10, 30, 20), 99, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %d) = %v; want %v", tt.ds, tt.p, got, tt.want)
			}
		})
	}
}

func TestInvocationsErrorsColdStartsAndThrottlesAreCounted(t *testing.T) {
	c := New(fixedClock())
	c.Invoked("submit", 30*time.Millisecond, true, false)
	c.Invoked("submit", 10*time.Millisecond, false, true)
	c.Invoked("submit", 20*time.Millisecond, false, false)
	c.Throttled("submit")
	c.Throttled("process")

	s := c.Snapshot()
	want := []Function{
		{Name: "process", Throttles: 1},
		{Name: "submit", Invocations: 3, Errors: 1, Throttles: 1, ColdStarts: 1, P50Ms: 20, P99Ms: 30},
	}
	if fmt.Sprint(s.Functions) != fmt.Sprint(want) {
		t.Errorf("functions = %+v; want %+v", s.Functions, want)
	}
}

func TestDurationSampleIsBounded(t *testing.T) {
	c := New(fixedClock())
	for range sampleSize {
		c.Invoked("f", time.Second, false, false)
	}
	for range sampleSize {
		c.Invoked("f", time.Millisecond, false, false) // the recent ones replace the old ones
	}
	if n := len(c.functions["f"].durations); n != sampleSize {
		t.Errorf("kept %d durations; want %d", n, sampleSize)
	}
	if s := c.Snapshot().Functions[0]; s.P99Ms != 1 || s.Invocations != 2*sampleSize {
		t.Errorf("p99 = %v ms over %d invocations; want 1 ms over %d (only the recent sample)", s.P99Ms, s.Invocations, 2*sampleSize)
	}
}

func TestQueues(t *testing.T) {
	c := New(fixedClock())
	c.QueueReceived("jobs", 3, 1500*time.Millisecond)
	c.QueueDepth("jobs", 4, 3)
	c.QueueDepth("jobs-dlq", 0, 0)
	got, _ := json.Marshal(c.Snapshot().Queues)
	want := `[{"name":"jobs","visible":4,"inFlight":3,"received":3,"oldestAgeMs":1500},{"name":"jobs-dlq","visible":0,"inFlight":0,"received":0,"oldestAgeMs":0}]`
	if string(got) != want {
		t.Errorf("queues = %s; want %s", got, want)
	}
}

// specExample is the example of the EMF specification (CloudWatch_Embedded_Metric_Format_Specification),
// on one line as a function writes it, with the runner's prefix.
const specExample = `[ProcessJob] {"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`

func TestEMF(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []Metric
	}{
		{"spec example", []string{specExample}, []Metric{
			{Namespace: "lambda-function-metrics", Name: "time", Dimensions: "functionVersion=$LATEST", Unit: "Milliseconds", Count: 1, Sum: 100, Min: 100, Max: 100},
		}},
		{"spec example twice, an array of values, two dimension sets", []string{
			specExample,
			`[ProcessJob] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"],[]],"Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]},"functionVersion":"$LATEST","time":[20,300]}`,
		}, []Metric{
			{Namespace: "lambda-function-metrics", Name: "time", Dimensions: "", Unit: "Milliseconds", Count: 2, Sum: 320, Min: 20, Max: 300},
			{Namespace: "lambda-function-metrics", Name: "time", Dimensions: "functionVersion=$LATEST", Unit: "Milliseconds", Count: 3, Sum: 420, Min: 20, Max: 300},
		}},
		{"no dimensions, no unit", []string{
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"JobsSubmitted"}]}]},"JobsSubmitted":1}`,
		}, []Metric{{Namespace: "App", Name: "JobsSubmitted", Unit: "None", Count: 1, Sum: 1, Min: 1, Max: 1}}},
		{"what CloudWatch rejects records nothing", []string{
			`[f] {"_aws":{"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"n"}]}]},"n":1}`,                                      // no timestamp
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Metrics":[{"Name":"n"}]}]},"n":1}`,                                          // no namespace
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Dimensions":[["svc"]],"Metrics":[{"Name":"n"}]}]},"n":1}`, // dimension without value
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"n"}]}]},"n":"1"}`,                      // not a number
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"n"}]}]},"n":null}`,
			`[f] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"n"}]}]}}`,
			`[f] {"level":"INFO","msg":"job submitted","n":1}`,                                                  // a log line, not EMF
			`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"App","Metrics":[{"Name":"n"}]}]},"n":1}`, // not a function's line
		}, []Metric{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(fixedClock())
			for _, line := range tt.lines {
				if n, err := c.Write([]byte(line + "\n")); n != len(line)+1 || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line)+1)
				}
			}
			if got := c.Snapshot().Metrics; fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("metrics = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	c := New(fixedClock())
	c.Invoked("SubmitJob", 12*time.Millisecond, true, false)
	c.QueueDepth("JobsQueue", 2, 1)
	_, _ = c.Write([]byte(specExample + "\n"))
	c.FaultInjected("throttling")
	c.FaultInjected("throttling")
	var b strings.Builder
	if err := c.Snapshot().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"function   invocations  errors  throttles  cold starts  p50 ms  p99 ms",
		"SubmitJob  1            0       0          1            12.0    12.0",
		"JobsQueue  2        1          0         0",
		"lambda-function-metrics  time    functionVersion=$LATEST  Milliseconds  1      100  100  100",
		"Faults injected\n  kind        count\n  throttling  2",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table has no line %q:\n%s", want, b.String())
		}
	}
}

func TestHandler(t *testing.T) {
	c := New(fixedClock())
	c.Invoked("SubmitJob", time.Millisecond, false, false)
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/.web/ops/", 200, `<caption>Functions</caption>`},
		{"GET", "/.web/ops/data.json", 200, `"name":"SubmitJob","invocations":1`},
		{"POST", "/.web/ops/data.json", 405, ""},
		{"GET", "/.web/ops/missing.js", 404, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		if res.StatusCode != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s = %d %q; want %d containing %q", tt.method, tt.path, res.StatusCode, body, tt.status, tt.body)
		}
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
