//go:build unix

package lambdapool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoBinary is the testdata/echo function, built once by TestMain for the host.
var echoBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdapool-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create build dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	echoBinary = filepath.Join(dir, "echo", "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", echoBinary, "./testdata/echo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/echo: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// echoRequest mirrors the request of testdata/echo.
type echoRequest struct {
	Echo     json.RawMessage `json:"echo,omitempty"`
	LogLines int             `json:"logLines,omitempty"`
	WaitFile string          `json:"waitFile,omitempty"`
	SleepMS  int             `json:"sleepMs,omitempty"`
	AllocMB  int             `json:"allocMb,omitempty"`
	Error    string          `json:"error,omitempty"`
	Panic    string          `json:"panic,omitempty"`
	Exit     *int            `json:"exit,omitempty"`
	LingerMS int             `json:"lingerMs,omitempty"`

	RegisterExtension bool `json:"registerExtension,omitempty"`
}

// echoResponse mirrors the response of testdata/echo.
type echoResponse struct {
	Echo        json.RawMessage   `json:"echo"`
	PID         int               `json:"pid"`
	DeadlineMS  int64             `json:"deadlineMs"`
	RequestID   string            `json:"requestId"`
	FunctionARN string            `json:"functionArn"`
	Dir         string            `json:"dir"`
	Environ     map[string]string `json:"environ"`

	RegisterStatus int `json:"registerStatus"`
}

// newTestPool returns a pool closed at the end of the test.
func newTestPool(t *testing.T, opts Options) *Pool {
	t.Helper()
	p := New(opts)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close pool: %v", err)
		}
	})
	return p
}

// registerEcho registers testdata/echo as f, filling in the executable and a 1 s timeout.
func registerEcho(t *testing.T, p *Pool, f Function) {
	t.Helper()
	if f.Executable == "" {
		f.Executable = echoBinary
	}
	if f.Timeout == 0 {
		f.Timeout = time.Second
	}
	if err := p.Register(f); err != nil {
		t.Fatalf("register %s: %v", f.Name, err)
	}
}

// invoke invokes name with req and fails the test on a Go error.
func invoke(t *testing.T, p *Pool, name string, req echoRequest) Result {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("marshal request: %v", err)
	}
	res, err := p.Invoke(context.Background(), name, payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	return res
}

// invokeOK invokes name with req and fails the test unless the function succeeded.
func invokeOK(t *testing.T, p *Pool, name string, req echoRequest) echoResponse {
	t.Helper()
	res := invoke(t, p, name, req)
	if res.Err != nil {
		t.Fatalf("invoke %s: got function error %v, want success", name, res.Err)
	}
	var resp echoResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("decode response %q: %v", res.Payload, err)
	}
	return resp
}

// waitFor polls cond until it holds, failing the test after a generous while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// processGone reports whether no process (not even a zombie) has pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// inflight returns how many invocations of name are accepted and not finished.
func inflight(p *Pool, name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.functions[name].inflight
}

// envCount returns how many live environments name has.
func envCount(p *Pool, name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.functions[name].envs)
}

// busyCount returns how many environments of name are running an invocation.
func busyCount(p *Pool, name string) int {
	return stateCount(p, name, stateBusy)
}

// stateCount returns how many environments of name are in state.
func stateCount(p *Pool, name string, state envState) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.functions[name].envs {
		if e.state == state {
			n++
		}
	}
	return n
}

func TestInvokeReusesWarmEnvironment(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	registerEcho(t, p, Function{Name: "warm"})

	cold := invokeOK(t, p, "warm", echoRequest{Echo: json.RawMessage(`{"n":1}`)})
	// Once from an environment waiting in /next, once (most likely) from one that has just
	// answered and not called /next yet: both must be reused.
	waitFor(t, "the environment waits for work", func() bool { return stateCount(p, "warm", stateIdle) == 1 })
	fromIdle := invokeOK(t, p, "warm", echoRequest{Echo: json.RawMessage(`{"n":2}`)})
	fromFinishing := invokeOK(t, p, "warm", echoRequest{Echo: json.RawMessage(`{"n":3}`)})

	for i, resp := range []echoResponse{cold, fromIdle, fromFinishing} {
		if got, want := string(resp.Echo), fmt.Sprintf(`{"n":%d}`, i+1); got != want {
			t.Errorf("invoke %d: got echo %s, want %s", i+1, got, want)
		}
		if resp.PID != cold.PID {
			t.Errorf("invoke %d ran in pid %d, want the warm pid %d", i+1, resp.PID, cold.PID)
		}
	}
	if got := envCount(p, "warm"); got != 1 {
		t.Errorf("got %d environments after sequential invokes, want 1", got)
	}
	if cold.RequestID == fromIdle.RequestID {
		t.Errorf("two invokes got request id %s, want a new id per invoke", cold.RequestID)
	}
}

func TestInvokeThrottlesAtConcurrencyLimit(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{DefaultConcurrency: 5})
	registerEcho(t, p, Function{Name: "limited", ReservedConcurrency: 1, Timeout: 10 * time.Second})
	release := filepath.Join(t.TempDir(), "release")

	first := make(chan echoResponse, 1)
	go func() {
		first <- invokeOK(t, p, "limited", echoRequest{WaitFile: release})
	}()
	waitFor(t, "the first invocation holds the only slot", func() bool { return inflight(p, "limited") == 1 })

	_, err := p.Invoke(context.Background(), "limited", []byte(`{}`))
	if !errors.Is(err, ErrThrottled) {
		t.Errorf("invoke at the limit: got error %v, want ErrThrottled", err)
	}

	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatalf("release the first invocation: %v", err)
	}
	firstResp := <-first
	after := invokeOK(t, p, "limited", echoRequest{})
	if after.PID != firstResp.PID {
		t.Errorf("invoke after the slot freed ran in pid %d, want the warm pid %d", after.PID, firstResp.PID)
	}
}

func TestInvokeRunsParallelInvocationsInSeparateProcesses(t *testing.T) {
	t.Parallel()
	const limit = 3
	p := newTestPool(t, Options{DefaultConcurrency: limit})
	registerEcho(t, p, Function{Name: "parallel", Timeout: 10 * time.Second})
	release := filepath.Join(t.TempDir(), "release")

	responses := make(chan echoResponse, limit)
	for range limit {
		go func() {
			responses <- invokeOK(t, p, "parallel", echoRequest{WaitFile: release})
		}()
	}
	waitFor(t, "every invocation runs", func() bool { return busyCount(p, "parallel") == limit })
	if _, err := p.Invoke(context.Background(), "parallel", []byte(`{}`)); !errors.Is(err, ErrThrottled) {
		t.Errorf("invoke beyond DefaultConcurrency: got error %v, want ErrThrottled", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatalf("release the invocations: %v", err)
	}

	pids := map[int]bool{}
	for range limit {
		pids[(<-responses).PID] = true
	}
	if len(pids) != limit {
		t.Errorf("%d parallel invocations ran in %d processes, want %d", limit, len(pids), limit)
	}
}

func TestInvokeReportsFunctionFailures(t *testing.T) {
	t.Parallel()
	exit3 := 3
	tests := []struct {
		name string
		req  echoRequest
		// want is the function error; a message ending in "*" is matched as a prefix.
		want FunctionError
		// wantWarm says whether the environment survives the failure.
		wantWarm bool
	}{
		{
			name:     "handled error",
			req:      echoRequest{Error: "boom"},
			want:     FunctionError{Type: "errorString", Message: "boom"},
			wantWarm: true,
		},
		{
			name: "panic",
			req:  echoRequest{Panic: "kaboom"},
			want: FunctionError{Type: "string", Message: "kaboom"},
		},
		{
			name: "crash",
			req:  echoRequest{Exit: &exit3},
			want: FunctionError{Type: "Runtime.ExitError", Message: "Runtime exited with error: exit status 3"},
		},
		{
			name: "timeout",
			req:  echoRequest{SleepMS: 5000},
			want: FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 1.00 seconds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPool(t, Options{})
			registerEcho(t, p, Function{Name: "failing", Timeout: time.Second})
			before := invokeOK(t, p, "failing", echoRequest{})

			res := invoke(t, p, "failing", tt.req)
			if res.Err == nil {
				t.Fatalf("got success %s, want function error %v", res.Payload, tt.want)
			}
			if *res.Err != tt.want {
				t.Errorf("got function error %+v, want %+v", *res.Err, tt.want)
			}
			var doc FunctionError
			if err := json.Unmarshal(res.Payload, &doc); err != nil || doc != tt.want {
				t.Errorf("got payload %s, want the error document of %+v", res.Payload, tt.want)
			}

			after := invokeOK(t, p, "failing", echoRequest{})
			if warm := after.PID == before.PID; warm != tt.wantWarm {
				t.Errorf("invoke after the failure ran in pid %d (before: %d): warm %v, want %v", after.PID, before.PID, warm, tt.wantWarm)
			}
			if !tt.wantWarm {
				waitFor(t, "the failed process is gone", func() bool { return processGone(before.PID) })
			}
		})
	}
}

func TestInvokeKillsEnvironmentBusyAfterAnsweringPastDeadline(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	registerEcho(t, p, Function{Name: "lingering", Timeout: time.Second, ReservedConcurrency: 1})

	// The caller has its answer at once; the runtime stays busy far past the deadline.
	first := invokeOK(t, p, "lingering", echoRequest{LingerMS: 30000})
	// Not throttled: the answered invocation no longer holds a slot. It waits for an environment
	// until the lingering one is killed at its deadline.
	second := invokeOK(t, p, "lingering", echoRequest{})

	waitFor(t, "the lingering process is gone", func() bool { return processGone(first.PID) })
	if second.PID == first.PID {
		t.Errorf("second invoke ran in the lingering pid %d, want a new process", second.PID)
	}
}

func TestInvokeRejectsOversizedPayload(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	registerEcho(t, p, Function{Name: "big"})
	_, err := p.Invoke(context.Background(), "big", bytes.Repeat([]byte("x"), maxPayloadBytes+1))
	if !errors.Is(err, ErrRequestTooLarge) {
		t.Errorf("got error %v, want ErrRequestTooLarge", err)
	}
}

func TestInvokeReportsInitFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want FunctionError
	}{
		{
			name: "exit before the runtime loop",
			env:  map[string]string{"ECHO_INIT_EXIT": "2"},
			want: FunctionError{Type: "Runtime.ExitError", Message: "Runtime exited with error: exit status 2"},
		},
		{
			name: "error posted to init/error",
			env:  map[string]string{"ECHO_INIT_ERROR": "bad configuration"},
			want: FunctionError{Type: "EchoInitError", Message: "bad configuration"},
		},
		{
			name: "init timeout",
			env:  map[string]string{"ECHO_INIT_SLEEP_MS": "30000"},
			want: FunctionError{Type: "Sandbox.Timedout", Message: "Init phase timed out after 0.30 seconds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPool(t, Options{InitTimeout: 300 * time.Millisecond})
			registerEcho(t, p, Function{Name: "broken", Env: tt.env})

			res := invoke(t, p, "broken", echoRequest{})
			if res.Err == nil {
				t.Fatalf("got success %s, want function error %+v", res.Payload, tt.want)
			}
			if *res.Err != tt.want {
				t.Errorf("got function error %+v, want %+v", *res.Err, tt.want)
			}
			// The failure is reported, not retried: nothing is left running for it.
			waitFor(t, "no environment is left", func() bool { return envCount(p, "broken") == 0 })
		})
	}
}

func TestInvokeSendsDeadlineARNAndRequestID(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	p := newTestPool(t, Options{Region: "eu-west-1"})
	registerEcho(t, p, Function{Name: "deadline", Timeout: timeout})

	start := time.Now()
	resp := invokeOK(t, p, "deadline", echoRequest{})
	end := time.Now()

	// The deadline is set when the runtime takes the invocation, somewhere between start and end;
	// the header has millisecond precision.
	got := time.UnixMilli(resp.DeadlineMS)
	if earliest, latest := start.Add(timeout).Add(-time.Millisecond), end.Add(timeout); got.Before(earliest) || got.After(latest) {
		t.Errorf("got deadline %v, want Timeout after the invoke: between %v and %v", got, earliest, latest)
	}
	if want := "arn:aws:lambda:eu-west-1:000000000000:function:deadline"; resp.FunctionARN != want {
		t.Errorf("got function ARN %q, want %q", resp.FunctionARN, want)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(resp.RequestID) {
		t.Errorf("got request id %q, want a version 4 UUID", resp.RequestID)
	}
}

// TestInvokeGivesOnlyLambdaEnvironment is not parallel: it sets a variable in the runner's own
// environment to prove the function does not inherit it.
func TestInvokeGivesOnlyLambdaEnvironment(t *testing.T) {
	t.Setenv("LAMBDAPOOL_RUNNER_ONLY", "must not leak")
	p := newTestPool(t, Options{
		Region:      "eu-west-1",
		Credentials: Credentials{AccessKeyID: "local-key", SecretAccessKey: "local-secret"},
	})
	registerEcho(t, p, Function{
		Name:      "environ",
		MemoryMB:  256,
		LogFormat: "JSON",
		LogLevel:  "DEBUG",
		Env: map[string]string{
			"TABLE_NAME":                "jobs",
			"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
		},
	})

	resp := invokeOK(t, p, "environ", echoRequest{})

	taskRoot := filepath.Dir(echoBinary)
	want := map[string]string{
		"TABLE_NAME":                      "jobs",
		"AWS_ENDPOINT_URL_DYNAMODB":       "http://127.0.0.1:8000",
		"AWS_LAMBDA_FUNCTION_NAME":        "environ",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/environ",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "DEBUG",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_ACCESS_KEY_ID":               "local-key",
		"AWS_SECRET_ACCESS_KEY":           "local-secret",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	}
	// Values that differ per environment or per invocation, checked by shape.
	shapes := map[string]*regexp.Regexp{
		"AWS_LAMBDA_RUNTIME_API":     regexp.MustCompile(`^127\.0\.0\.1:\d+$`),
		"AWS_LAMBDA_LOG_STREAM_NAME": regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`),
		// Set by aws-lambda-go itself from the Lambda-Runtime-Trace-Id header.
		"_X_AMZN_TRACE_ID": regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`),
	}

	for k, v := range resp.Environ {
		if shape, ok := shapes[k]; ok {
			if !shape.MatchString(v) {
				t.Errorf("got %s=%q, want a value matching %s", k, v, shape)
			}
			continue
		}
		if w, ok := want[k]; !ok {
			t.Errorf("function sees %s=%q, want no such variable", k, v)
		} else if v != w {
			t.Errorf("got %s=%q, want %q", k, v, w)
		}
	}
	for k := range want {
		if _, ok := resp.Environ[k]; !ok {
			t.Errorf("function does not see %s, want %q", k, want[k])
		}
	}
	for k := range shapes {
		if _, ok := resp.Environ[k]; !ok {
			t.Errorf("function does not see %s", k)
		}
	}
	if resp.Dir != taskRoot {
		t.Errorf("function runs in %q, want LAMBDA_TASK_ROOT %q", resp.Dir, taskRoot)
	}
}

// Each function gets its own keys when it has them, as Lambda hands each function its own
// execution role's: the local IAM enforcement tells functions apart by them.
func TestInvokeGivesEachFunctionItsOwnCredentials(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{Credentials: Credentials{AccessKeyID: "pool-key", SecretAccessKey: "pool-secret"}})
	registerEcho(t, p, Function{Name: "own", Credentials: &Credentials{AccessKeyID: "own-key", SecretAccessKey: "own-secret"}})
	registerEcho(t, p, Function{Name: "shared"})

	tests := []struct{ name, key, secret string }{
		{"own", "own-key", "own-secret"},
		{"shared", "pool-key", "pool-secret"},
	}
	for _, tt := range tests {
		env := invokeOK(t, p, tt.name, echoRequest{}).Environ
		if env["AWS_ACCESS_KEY_ID"] != tt.key || env["AWS_SECRET_ACCESS_KEY"] != tt.secret {
			t.Errorf("%s: got keys %q/%q, want %q/%q", tt.name, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], tt.key, tt.secret)
		}
	}
}

func TestInvokeHonoursCallerCancellation(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	registerEcho(t, p, Function{Name: "cancelled", Timeout: 10 * time.Second})
	before := invokeOK(t, p, "cancelled", echoRequest{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(ctx, "cancelled", []byte(`{"sleepMs":10000}`))
		done <- err
	}()
	waitFor(t, "the invocation runs", func() bool { return busyCount(p, "cancelled") == 1 })
	cancel()

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	waitFor(t, "the abandoned process is gone", func() bool { return processGone(before.PID) })
	after := invokeOK(t, p, "cancelled", echoRequest{})
	if after.PID == before.PID {
		t.Errorf("invoke after a cancellation ran in the killed pid %d, want a new process", after.PID)
	}
}

func TestInvokeStopsIdleEnvironments(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{IdleTimeout: 100 * time.Millisecond})
	registerEcho(t, p, Function{Name: "idle"})

	first := invokeOK(t, p, "idle", echoRequest{})
	waitFor(t, "the idle process is stopped", func() bool { return processGone(first.PID) })
	waitFor(t, "no environment is left", func() bool { return envCount(p, "idle") == 0 })

	second := invokeOK(t, p, "idle", echoRequest{})
	if second.PID == first.PID {
		t.Errorf("invoke after the idle timeout ran in the stopped pid %d, want a new process", second.PID)
	}
}

func TestInvokeUnknownFunction(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	_, err := p.Invoke(context.Background(), "missing", []byte(`{}`))
	if !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("got error %v, want ErrUnknownFunction", err)
	}
}

func TestInvokeConcurrentCallers(t *testing.T) {
	t.Parallel()
	const (
		limit   = 3
		callers = 8
		calls   = 5
	)
	p := newTestPool(t, Options{DefaultConcurrency: limit})
	registerEcho(t, p, Function{Name: "busy"})

	var (
		mu        sync.Mutex
		pids      = map[int]bool{}
		succeeded int
	)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				echo := fmt.Sprintf(`{"caller":%d,"call":%d}`, c, i)
				res, err := p.Invoke(context.Background(), "busy", []byte(`{"echo":`+echo+`}`))
				if errors.Is(err, ErrThrottled) {
					continue
				}
				if err != nil || res.Err != nil {
					t.Errorf("invoke: got error %v, function error %v, want success or ErrThrottled", err, res.Err)
					continue
				}
				var resp echoResponse
				if err := json.Unmarshal(res.Payload, &resp); err != nil {
					t.Errorf("decode response %q: %v", res.Payload, err)
					continue
				}
				if string(resp.Echo) != echo {
					t.Errorf("got echo %s, want the caller's own %s", resp.Echo, echo)
				}
				mu.Lock()
				pids[resp.PID] = true
				succeeded++
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if succeeded == 0 {
		t.Errorf("no invocation succeeded, want most to")
	}
	if len(pids) > limit {
		t.Errorf("invocations ran in %d processes, want at most the limit %d", len(pids), limit)
	}
}

func TestLogsArePrefixedWholeLines(t *testing.T) {
	t.Parallel()
	const (
		envs  = 3
		lines = 50
	)
	var logs lockedBuffer
	p := newTestPool(t, Options{Logs: &logs, DefaultConcurrency: envs})
	registerEcho(t, p, Function{Name: "logger", Timeout: 10 * time.Second})
	release := filepath.Join(t.TempDir(), "release")

	var wg sync.WaitGroup
	for range envs {
		wg.Go(func() {
			invokeOK(t, p, "logger", echoRequest{LogLines: lines, WaitFile: release})
		})
	}
	waitFor(t, "every invocation runs", func() bool { return busyCount(p, "logger") == envs })
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatalf("release the invocations: %v", err)
	}
	wg.Wait()
	// Close waits for every process and for the last of its output.
	if err := p.Close(); err != nil {
		t.Fatalf("close pool: %v", err)
	}

	line := regexp.MustCompile(`^\[logger\] (stdout|stderr) pid=(\d+) i=(\d+) (x+|y+)$`)
	counts := map[string]int{} // by stream and pid
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Errorf("got log line %q, want one whole prefixed line", sc.Text())
			continue
		}
		if want := map[string]string{"stdout": "x", "stderr": "y"}[m[1]]; m[4] != strings.Repeat(want, 100) {
			t.Errorf("got log line %q, want 100 %q on %s", sc.Text(), want, m[1])
		}
		counts[m[1]+" "+m[2]]++
	}
	if len(counts) != 2*envs {
		t.Errorf("got lines from %d streams, want %d (stdout and stderr of %d processes): %v", len(counts), 2*envs, envs, counts)
	}
	for stream, n := range counts {
		if n != lines {
			t.Errorf("got %d lines from %s, want %d", n, stream, lines)
		}
	}
}

// TestCloseSendsSIGTERMOnlyWhereAnExtensionRegistered: as on Lambda, a runtime gets SIGTERM
// before SIGKILL only if it registered an extension (lambda.WithEnableSIGTERM does); one that
// only calls signal.Notify is killed without it.
func TestCloseSendsSIGTERMOnlyWhereAnExtensionRegistered(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	p := newTestPool(t, Options{Logs: &logs})
	registerEcho(t, p, Function{Name: "graceful", Env: map[string]string{"ECHO_SIGTERM_MESSAGE": "flushed on SIGTERM"}})
	registerEcho(t, p, Function{Name: "notified", Env: map[string]string{"ECHO_NOTIFY_MESSAGE": "flushed on a SIGTERM Lambda never sends"}})
	invokeOK(t, p, "graceful", echoRequest{})
	invokeOK(t, p, "notified", echoRequest{})

	if err := p.Close(); err != nil {
		t.Fatalf("close pool: %v", err)
	}
	// aws-lambda-go registers an extension to get SIGTERM; had that failed it would say so.
	if got, want := string(logs.Bytes()), "[graceful] flushed on SIGTERM\n"; got != want {
		t.Errorf("got logs %q, want %q", got, want)
	}
}

// TestExtensionsRegisterOnlyDuringInit: Lambda refuses an extension that registers after the
// runtime's first /next, and such a late registration earns no SIGTERM at shutdown.
func TestExtensionsRegisterOnlyDuringInit(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	p := newTestPool(t, Options{Logs: &logs})
	registerEcho(t, p, Function{Name: "late", Env: map[string]string{"ECHO_NOTIFY_MESSAGE": "flushed on a SIGTERM Lambda never sends"}})
	if got := invokeOK(t, p, "late", echoRequest{RegisterExtension: true}).RegisterStatus; got != http.StatusForbidden {
		t.Errorf("register after Init answered %d; want %d", got, http.StatusForbidden)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("close pool: %v", err)
	}
	if got := string(logs.Bytes()); strings.Contains(got, "[late]") {
		t.Errorf("a runtime whose registration was refused got SIGTERM: logs %q", got)
	}
}

// TestIdleShutdownSendsSIGTERMWhereAnExtensionRegistered: scaling in shuts an environment down as
// Close does.
func TestIdleShutdownSendsSIGTERMWhereAnExtensionRegistered(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	p := newTestPool(t, Options{Logs: &logs, IdleTimeout: 100 * time.Millisecond})
	registerEcho(t, p, Function{Name: "graceful", Env: map[string]string{"ECHO_SIGTERM_MESSAGE": "flushed on SIGTERM"}})
	registerEcho(t, p, Function{Name: "notified", Env: map[string]string{"ECHO_NOTIFY_MESSAGE": "flushed on a SIGTERM Lambda never sends"}})
	invokeOK(t, p, "graceful", echoRequest{})
	invokeOK(t, p, "notified", echoRequest{})

	waitFor(t, "both environments are shut down", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.functions["graceful"].envs) == 0 && len(p.functions["notified"].envs) == 0
	})
	waitFor(t, "the graceful runtime's message", func() bool { return strings.Contains(string(logs.Bytes()), "[graceful] flushed on SIGTERM") })
	time.Sleep(defaultTerminationGrace) // time enough for a wrongly sent SIGTERM to be acted on
	if got := string(logs.Bytes()); strings.Contains(got, "[notified]") {
		t.Errorf("the runtime without an extension got SIGTERM: logs %q", got)
	}
}

// TestCloseKillsEverything is not parallel: it counts the goroutines of the whole test binary.
func TestCloseKillsEverything(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	p := New(Options{})
	registerEcho(t, p, Function{Name: "closing", Timeout: 10 * time.Second})
	release := filepath.Join(t.TempDir(), "never-created")

	// One environment stays busy, the other idle.
	busy := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), "closing", []byte(`{"waitFile":"`+release+`"}`))
		busy <- err
	}()
	waitFor(t, "the first invocation runs", func() bool { return busyCount(p, "closing") == 1 })
	idle := invokeOK(t, p, "closing", echoRequest{})

	p.mu.Lock()
	var pids []int
	for _, e := range p.functions["closing"].envs {
		pids = append(pids, e.pid)
	}
	p.mu.Unlock()
	if len(pids) != 2 {
		t.Fatalf("got %d environments, want 2 (one busy, one idle)", len(pids))
	}

	if err := p.Close(); err != nil {
		t.Fatalf("close pool: %v", err)
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("process %d is still there after Close returned", pid)
		}
	}
	if !processGone(idle.PID) {
		t.Errorf("idle process %d is still there after Close returned", idle.PID)
	}
	if err := <-busy; !errors.Is(err, ErrClosed) {
		t.Errorf("invocation running during Close: got error %v, want ErrClosed", err)
	}
	if _, err := p.Invoke(context.Background(), "closing", []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("invoke after Close: got error %v, want ErrClosed", err)
	}
	if err := p.Register(Function{Name: "late", Executable: echoBinary}); !errors.Is(err, ErrClosed) {
		t.Errorf("register after Close: got error %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	// Goroutines of closed connections may take a moment to return.
	waitFor(t, fmt.Sprintf("goroutines are back to %d", goroutines), func() bool { return runtime.NumGoroutine() <= goroutines })
}

func TestRegisterRejectsInvalidFunctions(t *testing.T) {
	t.Parallel()
	notExecutable := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatalf("write file: %v", err)
	}
	tests := []struct {
		name string
		fn   Function
		want string
	}{
		{"no name", Function{Executable: echoBinary}, "name is empty"},
		{"no executable", Function{Name: "f"}, "executable path is empty"},
		{"missing executable", Function{Name: "f", Executable: filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"not executable", Function{Name: "f", Executable: notExecutable}, "no execute permission"},
		{"directory", Function{Name: "f", Executable: t.TempDir()}, "not a regular file"},
		{"reserved variable", Function{Name: "f", Executable: echoBinary, Env: map[string]string{"AWS_REGION": "x"}}, "AWS_REGION is reserved"},
		{"credentials in env", Function{Name: "f", Executable: echoBinary, Env: map[string]string{"AWS_ACCESS_KEY_ID": "x"}}, "AWS_ACCESS_KEY_ID is reserved"},
		{"negative concurrency", Function{Name: "f", Executable: echoBinary, ReservedConcurrency: -1}, "negative"},
		{"duplicate", Function{Name: "taken", Executable: echoBinary}, "already registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPool(t, Options{})
			if err := p.Register(Function{Name: "taken", Executable: echoBinary}); err != nil {
				t.Fatalf("register taken: %v", err)
			}
			err := p.Register(tt.fn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe to write from the pool while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
