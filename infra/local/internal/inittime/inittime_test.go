package inittime

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/infra/local/template"
)

func TestStartTimesExecToFirstNext(t *testing.T) {
	hello := buildHello(t)
	d, err := Start(context.Background(), Program{Name: "hello", Executable: hello})
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 || d > InitTimeout {
		t.Errorf("Start = %s; want a duration between 0 and %s", d, InitTimeout)
	}
}

func TestStartReportsAProgramThatExitsBeforeAskingForWork(t *testing.T) {
	// The SDK floor told to use a profile that does not exist cannot build its configuration: it
	// logs why and exits 1, as a function whose cold start fails does.
	sdk := buildFloor(t, "sdk")
	_, err := Start(context.Background(), Program{Name: "sdk", Executable: sdk, Env: map[string]string{"AWS_CONFIG_FILE": "/nonexistent", "AWS_PROFILE": "missing"}})
	if err == nil || !strings.Contains(err.Error(), "exited before asking for work") {
		t.Fatalf("Start = %v; want an error saying the program exited before asking for work", err)
	}
	if !strings.Contains(err.Error(), "cold start failed") {
		t.Errorf("error %q does not carry the program's own output", err)
	}
}

func TestMeasureTakesOneSamplePerTimedRound(t *testing.T) {
	hello := buildHello(t)
	programs := []Program{{Name: "a", Executable: hello}, {Name: "b", Executable: hello}}
	var shuffles int
	results, err := Measure(context.Background(), programs, Options{Rounds: 3, Shuffle: func(int, func(i, j int)) { shuffles++ }})
	if err != nil {
		t.Fatal(err)
	}
	if shuffles != 4 {
		t.Errorf("order shuffled %d times; want 4 (the warm-up round and 3 timed rounds)", shuffles)
	}
	for i, r := range results {
		if r.Name != programs[i].Name || len(r.Samples) != 3 {
			t.Errorf("results[%d] = %s with %d samples; want %s with 3", i, r.Name, len(r.Samples), programs[i].Name)
		}
	}
	if _, err := Measure(context.Background(), programs, Options{}); !errors.Is(err, errNoRounds) {
		t.Errorf("Measure with no rounds = %v; want %v", err, errNoRounds)
	}
}

func TestResultStatistics(t *testing.T) {
	for _, tc := range []struct {
		samples       []time.Duration
		min, med, max time.Duration
	}{
		{[]time.Duration{5, 1, 3}, 1, 3, 5},
		{[]time.Duration{4, 1, 3, 10}, 1, 3, 10}, // even count: the mean of 3 and 4, in whole ns
		{[]time.Duration{7}, 7, 7, 7},
	} {
		r := Result{Samples: tc.samples}
		if r.Min() != tc.min || r.Median() != tc.med || r.Max() != tc.max {
			t.Errorf("%v: min, median, max = %d, %d, %d; want %d, %d, %d", tc.samples, r.Min(), r.Median(), r.Max(), tc.min, tc.med, tc.max)
		}
	}
}

func TestEnvironmentResolvesResourcesToPlausibleValues(t *testing.T) {
	tmpl, err := template.Parse([]byte(`
Parameters:
  Mode: {Type: String, Default: remote}
  Unused: {Type: String, Default: x}
Globals:
  Function:
    Environment:
      Variables:
        LOG_LEVEL: INFO
Resources:
  JobsTable: {Type: AWS::DynamoDB::Table}
  JobsQueue: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  EventsTopic: {Type: AWS::SNS::Topic}
  UploadsBucket: {Type: AWS::S3::Bucket}
  NamedTable: {Type: AWS::DynamoDB::Table, Properties: {TableName: orders}}
  SubmitJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Environment:
        Variables:
          JOBS_TABLE: !Ref JobsTable
          JOBS_STREAM: !GetAtt JobsTable.StreamArn
          JOBS_QUEUE_URL: !Ref JobsQueue
          TOPIC_ARN: !Ref EventsTopic
          BUCKET: !Ref UploadsBucket
          ORDERS: !Ref NamedTable
          MODE: !Ref Mode
          GONE: !Ref AWS::NoValue
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bindings(tmpl, map[string]string{"Mode": "file"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Environment(b, fns[0])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"LOG_LEVEL":      "INFO",
		"JOBS_TABLE":     "local-JobsTable",
		"JOBS_STREAM":    "arn:aws:dynamodb:us-east-1:000000000000:table/local-JobsTable/stream/2026-01-01T00:00:00.000",
		"JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/local-JobsQueue.fifo",
		"TOPIC_ARN":      "arn:aws:sns:us-east-1:000000000000:local-EventsTopic",
		"BUCKET":         "local-uploadsbucket",
		"ORDERS":         "orders",
		"MODE":           "file",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q", k, got[k], v)
		}
	}
	if _, ok := got["GONE"]; ok || len(got) != len(want) {
		t.Errorf("environment = %v; want exactly %v", got, want)
	}
	if _, err := Bindings(tmpl, map[string]string{"Missing": "x"}); err == nil {
		t.Error("Bindings accepted a parameter the template does not declare")
	}
}

func TestLocalParametersExpandsRepoRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "infra", "local"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "infra", "local", "parameters.json"), []byte(`{"FlagsFile":"${RepoRoot}/flags.json"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LocalParameters(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := root + "/flags.json"; got["FlagsFile"] != want {
		t.Errorf("FlagsFile = %q; want %q", got["FlagsFile"], want)
	}
}

func TestAWSEndpoint(t *testing.T) {
	quick := NewAWSEndpoint(false)
	defer quick.Close()
	req, _ := http.NewRequest(http.MethodPost, quick.Env()["AWS_ENDPOINT_URL"], strings.NewReader(`{"Name":"/ld/sdk-key","WithDecryption":true}`))
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	body := do(t, http.DefaultClient, req)
	if !strings.Contains(body, `"Value":"`+SDKKey+`"`) || !strings.Contains(body, `"Name":"/ld/sdk-key"`) {
		t.Errorf("GetParameter answered %s; want the parameter with the SDK key", body)
	}

	hanging := NewAWSEndpoint(true)
	defer hanging.Close()
	assertHangs(t, http.DefaultClient, hanging.Env()["AWS_ENDPOINT_URL"])
}

func TestInternet(t *testing.T) {
	online, err := NewInternet(t.TempDir(), false, "*.launchdarkly.com")
	if err != nil {
		t.Fatal(err)
	}
	defer online.Close()
	req, _ := http.NewRequest(http.MethodGet, "https://sdk.launchdarkly.com/sdk/latest-all", nil)
	if body := do(t, clientOf(t, online), req); body != `{"flags":{},"segments":{}}` {
		t.Errorf("GET through the proxy answered %s; want an empty flag set", body)
	}

	offline, err := NewInternet(t.TempDir(), true, "*.launchdarkly.com")
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	assertHangs(t, clientOf(t, offline), "https://sdk.launchdarkly.com/sdk/latest-all")
}

// clientOf is an HTTP client configured as a program given i.Env() would be.
func clientOf(t *testing.T, i *Internet) *http.Client {
	t.Helper()
	env := i.Env()
	proxy, err := url.Parse(env["HTTPS_PROXY"])
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyURL(proxy)
	transport.TLSClientConfig.RootCAs = roots
	return &http.Client{Transport: transport}
}

func do(t *testing.T, c *http.Client, req *http.Request) string {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

func assertHangs(t *testing.T, c *http.Client, target string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s answered %s; want no answer", target, resp.Status)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GET %s: %v; want the caller's deadline to pass", target, err)
	}
}

func buildHello(t *testing.T) string { return buildFloor(t, "hello") }

// buildFloor builds floors/<name> once per test.
func buildFloor(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the floors with")
	}
	bins, err := Build(context.Background(), ".", t.TempDir(), "./floors/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return bins["./floors/"+name]
}
