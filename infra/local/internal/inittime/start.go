package inittime

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Program is one executable whose cold start is timed.
type Program struct {
	// Name names the program in results: a function's logical ID, or a floor's name.
	Name string
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME; "" means Name.
	FunctionName string
	// Executable is the bootstrap binary, built for this machine.
	Executable string
	// Env is the program's own environment (a function's resolved template Environment, the
	// endpoints it should use). Keys Lambda sets itself are overridden by Lambda's values.
	Env map[string]string
	// MemoryMB becomes AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 means 128.
	MemoryMB int
	// LogFormat and LogLevel become AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL when set.
	LogFormat, LogLevel string
	// Output, when set, also receives what the program writes (a GODEBUG trace, for a test).
	Output io.Writer
	// Extensions, when set, counts the extensions the program registers with the Extensions API
	// in its cold start (aws-lambda-go's lambda.WithEnableSIGTERM registers one).
	Extensions *atomic.Int32
}

// Region is the AWS_REGION every program sees, the local runner's default.
const Region = "us-east-1"

// InitTimeout is how long a program may take to ask for work: Lambda's limit on the Init phase.
const InitTimeout = 10 * time.Second

// Runtime API paths aws-lambda-go calls before its first invocation.
const (
	pathNext              = "/2018-06-01/runtime/invocation/next"
	pathInitError         = "/2018-06-01/runtime/init/error"
	pathExtensionRegister = "/2020-01-01/extension/register"
	pathExtensionNext     = "/2020-01-01/extension/event/next"
)

// Start execs p once against a Runtime API of its own and returns the time from exec to its
// first GET /runtime/invocation/next. The process is killed before Start returns. A program
// that exits, reports an init error or does not ask for work within InitTimeout is an error
// carrying the end of its output.
func Start(ctx context.Context, p Program) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen for the runtime api: %w", err)
	}
	api := newRuntimeAPI()
	api.extensions = p.Extensions
	srv := &http.Server{Handler: api, ReadHeaderTimeout: InitTimeout}
	go func() { _ = srv.Serve(ln) }() // returns once Close has run
	// Close, not Shutdown: the held /next requests end when their connections close.
	defer srv.Close()

	out := &tail{max: 2048}
	cmd := exec.Command(p.Executable)
	cmd.Env = environ(p, ln.Addr().String())
	cmd.Dir = filepath.Dir(p.Executable) // Lambda starts the runtime in LAMBDA_TASK_ROOT
	var w io.Writer = out
	if p.Output != nil {
		w = io.MultiWriter(out, p.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = time.Second

	timer := time.NewTimer(InitTimeout)
	defer timer.Stop()
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill() // an error means it has exited already
		<-exited
	}()

	select {
	case at := <-api.first:
		return at.Sub(begin), nil
	case msg := <-api.initError:
		return 0, fmt.Errorf("%s reported an init error: %s\n%s", p.Name, msg, out)
	case err := <-exited:
		exited <- err // for the deferred wait
		return 0, fmt.Errorf("%s exited before asking for work (%v)\n%s", p.Name, err, out)
	case <-timer.C:
		return 0, fmt.Errorf("%s did not ask for work within %s\n%s", p.Name, InitTimeout, out)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// runtimeAPI is the part of Lambda's Runtime API a runtime calls before its first invocation.
type runtimeAPI struct {
	first      chan time.Time
	initError  chan string
	extensions *atomic.Int32 // nil: not counted
}

func newRuntimeAPI() *runtimeAPI {
	return &runtimeAPI{first: make(chan time.Time, 1), initError: make(chan string, 1)}
}

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == pathNext:
		// The time is taken first: the end of Init is the runtime's request, not our answer.
		select {
		case a.first <- time.Now():
		default: // a later /next; only the first one ends Init
		}
		<-r.Context().Done() // no invocation ever comes; the process is killed
	case r.Method == http.MethodPost && r.URL.Path == pathInitError:
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		select {
		case a.initError <- strings.TrimSpace(string(body)):
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && r.URL.Path == pathExtensionRegister:
		// aws-lambda-go registers an internal extension for lambda.WithEnableSIGTERM, in Init.
		if a.extensions != nil {
			a.extensions.Add(1)
		}
		w.Header().Set("Lambda-Extension-Identifier", "00000000-0000-4000-8000-000000000000")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"functionName":"bench","functionVersion":"$LATEST","handler":"bootstrap"}`)
	case r.Method == http.MethodGet && r.URL.Path == pathExtensionNext:
		<-r.Context().Done()
	default:
		http.Error(w, "not served by the cold-start benchmark", http.StatusNotFound)
	}
}

// environ is the whole environment of p's process: what Lambda sets, then p.Env, then Lambda's
// reserved variables again, which a function cannot override on Lambda either.
func environ(p Program, runtimeAPI string) []string {
	memory := p.MemoryMB
	if memory == 0 {
		memory = 128
	}
	name := p.FunctionName
	if name == "" {
		name = p.Name
	}
	vars := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": ":UTC", "LANG": "en_US.UTF-8"}
	for k, v := range p.Env {
		vars[k] = v
	}
	reserved := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memory),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/01/01/[$LATEST]00000000000000000000000000000000",
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_REGION":                      Region,
		"AWS_DEFAULT_REGION":              Region,
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(p.Executable),
		"AWS_LAMBDA_LOG_FORMAT":           p.LogFormat,
		"AWS_LAMBDA_LOG_LEVEL":            p.LogLevel,
		"AWS_ACCESS_KEY_ID":               "AKIAINITTIME",
		"AWS_SECRET_ACCESS_KEY":           "inittime-secret",
	}
	for k, v := range reserved {
		if v != "" {
			vars[k] = v
		} else {
			delete(vars, k)
		}
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// tail keeps the last max bytes written to it: the end of a program's output, for errors.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
