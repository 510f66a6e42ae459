package lambdapool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"
)

// envState is where an execution environment is in its life. Transitions happen under Pool.mu.
type envState int

const (
	// stateStarting: the process is starting or initialising; it has not called /next yet.
	stateStarting envState = iota
	// stateIdle: the runtime waits in /next and nothing is queued for it.
	stateIdle
	// stateWoken: an idle environment told to look at the queue again.
	stateWoken
	// stateBusy: an invocation was delivered and is not answered yet.
	stateBusy
	// stateFinishing: the invocation was answered; the runtime calls /next when it is ready.
	stateFinishing
	// stateDead: killed, exited or stopped; no longer one of the function's environments.
	stateDead
)

// env is one execution environment: one process and the Runtime API listener that serves it.
// Every field after exited is guarded by Pool.mu.
type env struct {
	fn     *function
	stream string // AWS_LAMBDA_LOG_STREAM_NAME
	// wake (capacity 1) tells an idle runtime's /next to look at the queue again.
	wake chan struct{}
	// stop is closed when the environment is retired; it releases a waiting /next.
	stop chan struct{}
	// exited is closed once the process has been reaped (or never started).
	exited chan struct{}

	state envState
	// served reports whether the runtime has called /next at least once, i.e. finished init.
	served bool
	// used reports whether an invocation was delivered to it: the first one is a cold start.
	used bool
	// cur is the invocation delivered and not answered yet.
	cur *invocation
	// answered is the invocation answered last, until the runtime calls /next again.
	answered *invocation
	// initFailure is what the runtime posted to /runtime/init/error.
	initFailure *FunctionError
	lastUsed    time.Time
	idleTimer   *time.Timer
	initTimer   *time.Timer
	// pid is 0 until the process has started; reaped is set once it has been waited for, after
	// which the pid may belong to another process and must not be signalled.
	pid    int
	reaped bool
	// extension reports whether the runtime registered an extension (lambda.WithEnableSIGTERM
	// does): only then does Lambda send SIGTERM before SIGKILL when it shuts the environment down.
	extension bool
}

// startLocked adds a new environment to fn and starts its process in the background.
func (p *Pool) startLocked(fn *function) {
	e := &env{
		fn:       fn,
		stream:   logStreamName(p.now()),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
		state:    stateStarting,
		lastUsed: p.now(),
	}
	fn.envs = append(fn.envs, e)
	p.wg.Add(1)
	go p.run(e)
}

// run is the life of one environment: listen, start the process, wait for it to exit, clean up.
func (p *Pool) run(e *env) {
	defer p.wg.Done()
	name := e.fn.cfg.Name

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		close(e.exited)
		p.launchFailed(e, fmt.Errorf("listen for the runtime api: %w", err))
		return
	}
	srv := &http.Server{
		Handler:           p.runtimeAPI(e),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(newLineWriter(p.logs, name), "runtime api: ", 0),
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = srv.Serve(ln) // returns http.ErrServerClosed once shutDown has run
	}()
	defer p.shutDown(srv)

	stdout, stderr := newLineWriter(p.logs, name), newLineWriter(p.logs, name)
	cmd := exec.Command(e.fn.cfg.Executable)
	cmd.Env = p.environ(e, ln.Addr().String())
	cmd.Dir = filepath.Dir(e.fn.cfg.Executable) // Lambda starts the runtime in LAMBDA_TASK_ROOT
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = processGroup()
	// A grandchild holding stdout open must not keep Wait (and so Close) from returning.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		close(e.exited)
		p.launchFailed(e, fmt.Errorf("start %s: %w", e.fn.cfg.Executable, err))
		return
	}

	p.mu.Lock()
	e.pid = cmd.Process.Pid
	if e.state == stateDead {
		// Retired while starting (Close, or a caller gave up): nobody else knew the pid.
		signalGroup(e.pid, sigKill)
	} else if !e.served {
		e.initTimer = time.AfterFunc(p.initTimeout, func() { p.initTimedOut(e) })
	}
	p.mu.Unlock()

	_ = cmd.Wait() // the exit status is in cmd.ProcessState
	stdout.flush()
	stderr.flush()

	p.mu.Lock()
	e.reaped = true
	p.exitedLocked(e, cmd.ProcessState)
	p.mu.Unlock()
	// Anything the runtime started in its process group goes with it, as it would with the
	// sandbox. The group id stays taken while any member lives; once none does, the call finds
	// nothing, unless the pid was reused for a new group leader in the moment since, which
	// sequential pid allocation makes practically impossible.
	signalGroup(e.pid, sigKill)
	close(e.exited)
}

// shutDown stops the environment's Runtime API server and waits for its handlers to return.
func (p *Pool) shutDown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), p.grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close() // a handler outlived the grace period; drop its connection
	}
}

// exitedLocked handles the end of e's process. An exit the pool did not cause fails what the
// environment was working on: the invocation it was running, or, if it never finished init, the
// oldest queued invocation (the one it was started for).
func (p *Pool) exitedLocked(e *env, st *os.ProcessState) {
	fn := e.fn
	expected := e.state == stateDead
	p.retireLocked(e)
	if !expected {
		res := functionError("Runtime.ExitError", "Runtime exited with error: "+st.String())
		switch {
		case e.cur != nil && !e.cur.finished:
			p.logs.line(fn.cfg.Name, fmt.Sprintf("RequestId: %s Error: %s", e.cur.id, res.Err.Message))
			p.finishLocked(fn, e.cur, res, nil)
		case !e.served:
			if e.initFailure != nil {
				res = Result{Payload: e.initFailure.document(), Err: e.initFailure}
			}
			p.logs.line(fn.cfg.Name, "INIT failed: "+res.Err.Error())
			p.failOldestLocked(fn, res, nil)
		}
	}
	p.dispatchLocked(fn)
}

// launchFailed handles an environment whose process could not be started at all. That is the
// pool's failure, not the function's, so the invocation waiting for it gets a Go error.
func (p *Pool) launchFailed(e *env, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn := e.fn
	if e.state == stateDead {
		return
	}
	p.retireLocked(e)
	p.logs.line(fn.cfg.Name, "could not start an execution environment: "+err.Error())
	p.failOldestLocked(fn, Result{}, fmt.Errorf("invoke %s: %w", fn.cfg.Name, err))
	p.dispatchLocked(fn)
}

// initTimedOut kills an environment that has not called /next within InitTimeout.
func (p *Pool) initTimedOut(e *env) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.served || e.state == stateDead {
		return
	}
	fn := e.fn
	msg := fmt.Sprintf("Init phase timed out after %.2f seconds", p.initTimeout.Seconds())
	p.logs.line(fn.cfg.Name, "INIT failed: "+msg)
	p.killLocked(e)
	p.failOldestLocked(fn, functionError("Sandbox.Timedout", msg), nil)
	p.dispatchLocked(fn)
}

// reapIdle stops e if it is still in the idle period that began at since.
func (p *Pool) reapIdle(e *env, since time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.state != stateIdle || !e.lastUsed.Equal(since) {
		return
	}
	p.retireLocked(e)
	if p.signalShutdownLocked(e) {
		time.AfterFunc(p.grace, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !e.reaped {
				signalGroup(e.pid, sigKill)
			}
		})
	}
}

// signalShutdownLocked sends a retired environment's process the first signal of Lambda's
// Shutdown phase: SIGKILL, unless the runtime registered an extension, which gets SIGTERM and the
// grace to act on it (500 ms for an internal extension); it reports whether it sent SIGTERM, after
// which the caller sends SIGKILL if the process outlives the grace. A runtime that only calls
// signal.Notify gets no SIGTERM on Lambda, and none here.
func (p *Pool) signalShutdownLocked(e *env) bool {
	if e.pid == 0 || e.reaped {
		return false
	}
	if !e.extension {
		signalGroup(e.pid, sigKill)
		return false
	}
	signalGroup(e.pid, sigTerm)
	return true
}

// wakeLocked tells an idle environment's waiting /next to take work from the queue.
func (p *Pool) wakeLocked(e *env) {
	stopTimer(e.idleTimer)
	e.state = stateWoken
	select {
	case e.wake <- struct{}{}:
	default: // a signal is already pending
	}
}

// retireLocked removes e from its function, so that nothing is delivered to it or counted for it
// any more. It does not signal the process.
func (p *Pool) retireLocked(e *env) {
	if e.state == stateDead {
		return
	}
	e.state = stateDead
	close(e.stop)
	stopTimer(e.idleTimer)
	stopTimer(e.initTimer)
	e.fn.envs = slices.DeleteFunc(e.fn.envs, func(x *env) bool { return x == e })
}

// killLocked retires e and kills its process group at once, as Lambda does on a timeout.
// The caller dispatches the function's queue afterwards.
func (p *Pool) killLocked(e *env) {
	p.retireLocked(e)
	if e.pid != 0 && !e.reaped {
		signalGroup(e.pid, sigKill)
	}
}

// environ is the whole environment of e's process: what Lambda would set and the function's own
// variables, and nothing inherited from the runner. PATH, TZ and LANG have Lambda's values unless
// the function sets its own (Lambda allows that); the rest are reserved and always the pool's.
func (p *Pool) environ(e *env, runtimeAPI string) []string {
	cfg := e.fn.cfg
	vars := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin",
		"TZ":   ":UTC",
		"LANG": "en_US.UTF-8",
	}
	for k, v := range cfg.Env {
		vars[k] = v
	}
	creds := p.creds
	if cfg.Credentials != nil {
		creds = *cfg.Credentials
	}
	reserved := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      e.stream,
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_REGION":                      p.region,
		"AWS_DEFAULT_REGION":              p.region,
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(cfg.Executable),
		"AWS_LAMBDA_LOG_FORMAT":           cfg.LogFormat,
		"AWS_LAMBDA_LOG_LEVEL":            cfg.LogLevel,
		"AWS_ACCESS_KEY_ID":               creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":               creds.SessionToken,
	}
	for k, v := range reserved {
		if v != "" {
			vars[k] = v
		}
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// isReserved reports whether a function may not set key itself: the variables Lambda refuses in
// a function's configuration, plus the two logging variables the pool derives from
// Function.LogFormat and Function.LogLevel.
func isReserved(key string) bool {
	switch key {
	case "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
		"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
		"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL":
		return true
	}
	return false
}

// logStreamName is a stream name shaped like Lambda's: date, version, random id.
func logStreamName(now time.Time) string {
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
}

// newRequestID returns a random (version 4) UUID, as Lambda's request ids are.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header for an unsampled request.
func newTraceID(now time.Time) string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), randomHex(12), randomHex(8))
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	return hex.EncodeToString(b)
}

// stopTimer stops t if there is one.
func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
