package lambdapool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"time"
)

// Lambda's defaults for what a function may leave unset.
const (
	defaultRegion             = "us-east-1"
	defaultTimeout            = 3 * time.Second
	defaultMemoryMB           = 128
	defaultConcurrency        = 10
	defaultInitTimeout        = 10 * time.Second
	defaultTerminationGrace   = 500 * time.Millisecond
	defaultMemorySamplePeriod = 50 * time.Millisecond
)

// Infrastructure outcomes of Invoke. They are Go errors, not function errors: the function never
// ran (or never finished) because of the pool, not because of its code.
var (
	// ErrThrottled reports that the function is at its concurrency limit. Lambda's synchronous
	// Invoke answers 429 TooManyRequestsException at once in that case; it does not queue.
	ErrThrottled = errors.New("function is at its concurrency limit")
	// ErrUnknownFunction reports an Invoke or lookup of a name that was never registered.
	ErrUnknownFunction = errors.New("function not registered")
	// ErrClosed reports a call on a pool that is closed or closing.
	ErrClosed = errors.New("lambda pool closed")
	// ErrRequestTooLarge reports a payload over Lambda's 6 MB limit for synchronous invokes
	// (Lambda answers 413 RequestEntityTooLargeException).
	ErrRequestTooLarge = errors.New("request payload over 6 MB")
)

// Function is one Lambda function the pool can run.
type Function struct {
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME, the ARN's last part, the log prefix).
	Name string
	// Executable is the path of the bootstrap binary, built for the host.
	Executable string
	// Env is the resolved user environment (endpoints, table names, ...). It may not set a key
	// Lambda reserves (AWS_REGION, AWS_LAMBDA_*, credentials, ...): Register rejects those.
	Env map[string]string
	// Timeout is the invocation timeout; 0 means Lambda's default of 3 s.
	Timeout time.Duration
	// MemoryMB is the memory size; 0 means Lambda's default of 128.
	MemoryMB int
	// ReservedConcurrency caps the function's execution environments; 0 means not reserved, and
	// Options.DefaultConcurrency applies.
	ReservedConcurrency int
	// LogFormat and LogLevel become AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL when set.
	LogFormat, LogLevel string
	// Credentials are this function's own keys, as Lambda hands each function the keys of its
	// execution role; nil means Options.Credentials.
	Credentials *Credentials
}

// Credentials are the access keys every function receives in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda hands over its execution role's keys.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// Options configure a Pool.
type Options struct {
	// Region is AWS_REGION for every function and the region of their ARNs; "" means us-east-1.
	Region string
	// DefaultConcurrency caps the environments of a function without ReservedConcurrency;
	// 0 means 10.
	DefaultConcurrency int
	// Logs receives every line functions write to stdout or stderr, prefixed "[<Name>] ".
	// Nil discards them.
	Logs io.Writer
	// IdleTimeout stops an environment that has been idle this long; 0 keeps it until Close.
	IdleTimeout time.Duration
	// InitTimeout bounds the time from starting a process to its first call of
	// /runtime/invocation/next; 0 means Lambda's 10 s.
	InitTimeout time.Duration
	// Credentials are given to every function without its own; empty fields are left unset.
	Credentials Credentials
	// Observer is told of every invocation and throttle, to count them; nil tells no one.
	Observer Observer
}

// Observer is told what Lambda's CloudWatch metrics count: each invocation that reached a
// function (its duration from delivery to answer, whether it was the first of a new execution
// environment, whether it failed) and each invocation refused at the concurrency limit. It is
// called with the pool's lock held, so it must return quickly and never call the pool.
type Observer interface {
	Invoked(function string, d time.Duration, cold, failed bool)
	Throttled(function string)
}

// Result is the outcome of an invocation that reached the function.
type Result struct {
	// Payload is the function's response. When Err is set it is the error document
	// ({"errorType":...,"errorMessage":...}), as Lambda's Invoke API returns it.
	Payload []byte
	// Err is set when the function failed: a handled error, a panic, a timeout, a crash or
	// running out of memory.
	Err *FunctionError
}

// FunctionError is a failed invocation as Lambda reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error returns the type and message.
func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// document is the error as Lambda's Invoke API returns it in the payload.
func (e *FunctionError) document() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		return nil // two strings always marshal
	}
	return b
}

// Pool runs Lambda functions as local processes. It is safe for concurrent use.
type Pool struct {
	region      string
	concurrency int
	idleTimeout time.Duration
	initTimeout time.Duration
	grace       time.Duration
	sample      time.Duration
	creds       Credentials
	logs        *logSink
	observer    Observer
	now         func() time.Time

	mu        sync.Mutex
	functions map[string]*function
	closed    bool

	// wg counts every goroutine the pool starts, so that Close can wait for all of them.
	wg sync.WaitGroup
}

// function is the pool's state for one registered Function. Guarded by Pool.mu.
type function struct {
	cfg   Function
	limit int
	// inflight counts invocations accepted and not yet finished; it is what throttling checks.
	inflight int
	// queue holds accepted invocations no environment has taken yet, oldest first.
	queue []*invocation
	// envs are the live environments, in start order.
	envs []*env
}

// invocation is one accepted Invoke call.
type invocation struct {
	id      string
	payload []byte
	// env is the environment it was delivered to; nil while queued. Guarded by Pool.mu.
	env *env
	// delivered is when env took it, and cold whether it was env's first. Guarded by Pool.mu.
	delivered time.Time
	cold      bool
	// finished, result and err are set once, under Pool.mu, before done is closed.
	finished bool
	result   Result
	err      error
	done     chan struct{}
	// released is closed when the runtime calls /next after answering: only then is the
	// invocation over for the environment, and its deadline no longer applies.
	released chan struct{}
}

// New returns a pool with no functions.
func New(opts Options) *Pool {
	p := &Pool{
		region:      opts.Region,
		concurrency: opts.DefaultConcurrency,
		idleTimeout: opts.IdleTimeout,
		initTimeout: opts.InitTimeout,
		grace:       defaultTerminationGrace,
		sample:      defaultMemorySamplePeriod,
		creds:       opts.Credentials,
		logs:        newLogSink(opts.Logs),
		observer:    opts.Observer,
		now:         time.Now,
		functions:   make(map[string]*function),
	}
	if p.region == "" {
		p.region = defaultRegion
	}
	if p.concurrency <= 0 {
		p.concurrency = defaultConcurrency
	}
	if p.initTimeout <= 0 {
		p.initTimeout = defaultInitTimeout
	}
	return p
}

// Register adds a function. Its environments start on demand, at the first Invoke.
func (p *Pool) Register(f Function) error {
	if f.Name == "" {
		return errors.New("register function: name is empty")
	}
	if err := checkExecutable(f.Executable); err != nil {
		return fmt.Errorf("register function %s: %w", f.Name, err)
	}
	for k := range f.Env {
		if isReserved(k) {
			return fmt.Errorf("register function %s: environment variable %s is reserved by Lambda", f.Name, k)
		}
	}
	if f.ReservedConcurrency < 0 {
		return fmt.Errorf("register function %s: reserved concurrency %d is negative", f.Name, f.ReservedConcurrency)
	}
	if f.Timeout < 0 || f.MemoryMB < 0 {
		return fmt.Errorf("register function %s: timeout and memory must not be negative", f.Name)
	}
	if f.Timeout == 0 {
		f.Timeout = defaultTimeout
	}
	if f.MemoryMB == 0 {
		f.MemoryMB = defaultMemoryMB
	}
	f.Env = maps.Clone(f.Env) // the caller may change its map later

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("register function %s: %w", f.Name, ErrClosed)
	}
	if _, ok := p.functions[f.Name]; ok {
		return fmt.Errorf("register function %s: already registered", f.Name)
	}
	limit := f.ReservedConcurrency
	if limit == 0 {
		limit = p.concurrency
	}
	p.functions[f.Name] = &function{cfg: f, limit: limit}
	return nil
}

// Invoke runs the named function once with payload and waits for the outcome, as Lambda's
// synchronous Invoke does. A function failure is a Result with Err set and a nil error; the error
// is for outcomes where the function did not answer: ErrUnknownFunction, ErrThrottled,
// ErrRequestTooLarge, ErrClosed, a failure to start a process, or ctx ending first (the
// environment is then killed).
func (p *Pool) Invoke(ctx context.Context, name string, payload []byte) (Result, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{}, fmt.Errorf("invoke %s: %w", name, ErrClosed)
	}
	fn, ok := p.functions[name]
	if !ok {
		p.mu.Unlock()
		return Result{}, fmt.Errorf("invoke %s: %w", name, ErrUnknownFunction)
	}
	if len(payload) > maxPayloadBytes {
		p.mu.Unlock()
		return Result{}, fmt.Errorf("invoke %s: %d bytes: %w", name, len(payload), ErrRequestTooLarge)
	}
	if fn.inflight >= fn.limit {
		if p.observer != nil {
			p.observer.Throttled(name)
		}
		p.mu.Unlock()
		return Result{}, fmt.Errorf("invoke %s: %w", name, ErrThrottled)
	}
	inv := &invocation{
		id:       newRequestID(),
		payload:  slices.Clone(payload),
		done:     make(chan struct{}),
		released: make(chan struct{}),
	}
	fn.inflight++
	fn.queue = append(fn.queue, inv)
	p.dispatchLocked(fn)
	p.mu.Unlock()

	select {
	case <-inv.done:
		return inv.result, inv.err
	case <-ctx.Done():
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if inv.finished {
		return inv.result, inv.err
	}
	if e := inv.env; e != nil {
		p.logs.line(fn.cfg.Name, fmt.Sprintf("RequestId: %s Caller gave up (%v): killing the environment", inv.id, ctx.Err()))
		p.killLocked(e)
	} else {
		fn.queue = slices.DeleteFunc(fn.queue, func(q *invocation) bool { return q == inv })
	}
	err := fmt.Errorf("invoke %s: %w", name, ctx.Err())
	p.finishLocked(fn, inv, Result{}, err)
	p.dispatchLocked(fn)
	return Result{}, err
}

// Close shuts every environment down as Lambda does (SIGKILL; SIGTERM and a grace of 500 ms first
// where the runtime registered an extension), stops every Runtime API listener and waits for all
// of them. Invocations still running return ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	var envs []*env
	for _, fn := range p.functions {
		for _, inv := range fn.queue {
			p.finishLocked(fn, inv, Result{}, fmt.Errorf("invoke %s: %w", fn.cfg.Name, ErrClosed))
		}
		fn.queue = nil
		for _, e := range slices.Clone(fn.envs) {
			if e.cur != nil {
				p.finishLocked(fn, e.cur, Result{}, fmt.Errorf("invoke %s: %w", fn.cfg.Name, ErrClosed))
			}
			p.retireLocked(e)
			p.signalShutdownLocked(e) // Close sends SIGKILL to what outlives the grace
			envs = append(envs, e)
		}
	}
	p.mu.Unlock()

	if !waitExited(envs, p.grace) {
		p.mu.Lock()
		for _, e := range envs {
			if !e.reaped {
				signalGroup(e.pid, sigKill)
			}
		}
		p.mu.Unlock()
	}
	p.wg.Wait()
	return nil
}

// dispatchLocked makes sure every queued invocation has an environment on its way to take it:
// first environments that will call /next anyway (starting, woken, finishing), then idle ones it
// wakes, then new ones it starts. It never exceeds the limit: a new environment is started only
// for a queued invocation no other environment covers, and queued plus running invocations never
// exceed the limit.
func (p *Pool) dispatchLocked(fn *function) {
	if p.closed {
		return
	}
	need := len(fn.queue)
	var idle []*env
	for _, e := range fn.envs {
		switch e.state {
		case stateStarting, stateWoken, stateFinishing:
			need--
		case stateIdle:
			idle = append(idle, e)
		}
	}
	// The most recently used environment first, so that the others go idle long enough to be
	// stopped by IdleTimeout, as Lambda scales in.
	slices.SortFunc(idle, func(a, b *env) int { return b.lastUsed.Compare(a.lastUsed) })
	for _, e := range idle {
		if need <= 0 {
			return
		}
		p.wakeLocked(e)
		need--
	}
	for ; need > 0; need-- {
		p.startLocked(fn)
	}
}

// finishLocked records the outcome of inv and frees its concurrency slot. Only the first outcome
// counts: a response racing a timeout loses if the timeout was recorded first.
func (p *Pool) finishLocked(fn *function, inv *invocation, res Result, err error) {
	if inv.finished {
		return
	}
	inv.finished = true
	inv.result = res
	inv.err = err
	fn.inflight--
	// An invocation counts once it reached an environment, or when it failed for the function's
	// own reasons before that (its environment failed to initialise), as Lambda counts them. It
	// is counted before its caller is woken, so a caller that reads the counts next sees it.
	if p.observer != nil && (inv.env != nil || res.Err != nil) {
		var d time.Duration
		if inv.env != nil {
			d = p.now().Sub(inv.delivered)
		}
		p.observer.Invoked(fn.cfg.Name, d, inv.cold, res.Err != nil || err != nil)
	}
	close(inv.done)
}

// failOldestLocked fails the oldest queued invocation, if any. An environment that dies before
// its first /next was started for some queued invocation; failing one reports the start-up
// failure to a caller instead of retrying it forever.
func (p *Pool) failOldestLocked(fn *function, res Result, err error) {
	if len(fn.queue) == 0 {
		return
	}
	inv := fn.queue[0]
	fn.queue = fn.queue[1:]
	p.finishLocked(fn, inv, res, err)
}

// waitExited waits up to grace for every process of envs to exit and reports whether they did.
func waitExited(envs []*env, grace time.Duration) bool {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for _, e := range envs {
		select {
		case <-e.exited:
		case <-timer.C:
			return false
		}
	}
	return true
}

// functionError is a Result for a failure the pool detected itself.
func functionError(typ, msg string) Result {
	fe := &FunctionError{Type: typ, Message: msg}
	return Result{Payload: fe.document(), Err: fe}
}

// checkExecutable reports whether path names a regular, executable file.
func checkExecutable(path string) error {
	if path == "" {
		return errors.New("executable path is empty")
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check executable: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("executable %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("executable %s has no execute permission", path)
	}
	return nil
}
