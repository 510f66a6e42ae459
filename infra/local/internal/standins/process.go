package standins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a running stand-in.
type Process struct {
	// Name says which stand-in this is, for logs and errors.
	Name string
	// URL is where it answers: http://127.0.0.1:<port>.
	URL string
	// Port is the port in URL.
	Port int

	cmd   *exec.Cmd
	grace time.Duration
	out   *tail

	done    chan struct{} // closed once the process has exited and been waited for
	waitErr error         // how it exited; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// PID returns the stand-in's process ID, which is also its process group ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done returns a channel closed when the stand-in has exited, whether by Stop or on its own;
// the runner watches it to notice a stand-in that dies while in use.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop ends the stand-in and every process it started: SIGTERM to its process group, then
// SIGKILL if it has not exited within its grace period, then it waits for the exit.
// It returns an error if the stand-in had already exited on its own. Calling Stop again
// returns the first call's result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	pgid := p.PID()
	select {
	case <-p.done:
		// Whatever it left behind in its group goes too.
		signalGroup(pgid, syscall.SIGKILL)
		return fmt.Errorf("stop %s: it had already exited (%v); last output:\n%s", p.Name, p.waitErr, p.out.String())
	default:
	}
	if err := signalGroup(pgid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", p.Name, err)
	}
	grace := time.NewTimer(p.grace)
	defer grace.Stop()
	select {
	case <-p.done:
		// The leader is gone; children that ignored SIGTERM are not spared.
		signalGroup(pgid, syscall.SIGKILL)
		return nil
	case <-grace.C:
	}
	if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("stop %s: %w", p.Name, err)
	}
	<-p.done
	return nil
}

// signalGroup sends sig to every process in the group; a group already gone is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send %v to process group %d: %w", sig, pgid, err)
	}
	return nil
}

// spec is how to run one kind of stand-in.
type spec struct {
	name string
	path string
	args func(port int) []string
	// dir is the working directory; empty means this process's.
	dir string
	// env is added to this process's environment.
	env func(port int) []string
	// ready returns nil once the stand-in at url answers a real request.
	ready func(ctx context.Context, url string) error
	// readyTimeout bounds the wait for ready when ctx allows longer.
	readyTimeout time.Duration
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace time.Duration
	// hint, if set, is added to the error when the stand-in exits before it is ready.
	hint string
}

// errPortInUse marks a start that failed because another process took the port.
var errPortInUse = errors.New("port in use")

// start runs s on port and waits until it is ready. With port 0 it picks a free port, and
// tries once more on another if something else took it between the pick and the bind.
func start(ctx context.Context, s spec, port int, logs io.Writer) (*Process, error) {
	if logs == nil {
		logs = io.Discard
	}
	if port == 0 {
		p, err := launchOnFreePort(ctx, s, logs)
		if errors.Is(err, errPortInUse) {
			p, err = launchOnFreePort(ctx, s, logs)
		}
		return p, err
	}
	// Ask first: if another server already has the port, the readiness check would talk to
	// it and report a stand-in ready that never started.
	if err := portFree(port); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	return launch(ctx, s, port, logs)
}

func launchOnFreePort(ctx context.Context, s spec, logs io.Writer) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	return launch(ctx, s, port, logs)
}

func launch(ctx context.Context, s spec, port int, logs io.Writer) (*Process, error) {
	out := &tail{}
	cmd := exec.Command(s.path, s.args(port)...)
	cmd.Dir = s.dir
	cmd.Env = os.Environ()
	if s.env != nil {
		cmd.Env = append(cmd.Env, s.env(port)...)
	}
	w := io.MultiWriter(logs, out)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild that outlives the stand-in keeps its output pipe open; do not let it
	// hold Wait (and so Done and Stop) for long.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	p := &Process{
		Name:  s.name,
		URL:   "http://127.0.0.1:" + strconv.Itoa(port),
		Port:  port,
		cmd:   cmd,
		grace: s.stopGrace,
		out:   out,
		done:  make(chan struct{}),
	}
	if p.grace == 0 {
		p.grace = 5 * time.Second
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	if err := p.waitReady(ctx, s); err != nil {
		// Stop ends it, or what it left behind if it exited. Signals to our own child's group
		// cannot be refused, so Stop's only possible complaint is that the process had
		// exited, which err already says.
		p.Stop()
		return nil, err
	}
	return p, nil
}

// errExited marks a stand-in that exited before it was ready.
var errExited = errors.New("exited before it was ready")

// waitReady polls s.ready until it succeeds, the process exits, or ctx (bounded by
// s.readyTimeout) is done.
func (p *Process) waitReady(ctx context.Context, s spec) error {
	ctx, cancel := context.WithTimeout(ctx, s.readyTimeout)
	defer cancel()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	var lastErr error
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		lastErr = s.ready(attemptCtx, p.URL)
		cancelAttempt()
		if lastErr == nil {
			select {
			case <-p.done: // something else answered on the port; ours is gone
			default:
				return nil
			}
		}
		// DynamoDB Local reports a failed bind but does not exit (its Jetty threads keep the
		// JVM alive), so a taken port is read from the output rather than waited out.
		if inUse(p.out.String()) {
			return fmt.Errorf("start %s: %w on port %d; last output:\n%s", s.name, errPortInUse, p.Port, p.out.String())
		}
		select {
		case <-p.done:
			err := fmt.Errorf("start %s: %w (%v)", s.name, errExited, p.waitErr)
			if inUse(p.out.String()) {
				err = fmt.Errorf("start %s: %w: %w (%v)", s.name, errPortInUse, errExited, p.waitErr)
			}
			if s.hint != "" {
				err = fmt.Errorf("%w; %s", err, s.hint)
			}
			return fmt.Errorf("%w; last output:\n%s", err, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("start %s: not ready on port %d: %w (last check: %v); last output:\n%s",
				s.name, p.Port, ctx.Err(), lastErr, p.out.String())
		case <-poll.C:
		}
	}
}

// inUse reports whether output says the listen address was taken, in the words of Java
// (BindException), Node (EADDRINUSE) or Go.
func inUse(output string) bool {
	output = strings.ToLower(output)
	return strings.Contains(output, "address already in use") || strings.Contains(output, "eaddrinuse")
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree returns an error if port cannot be listened on at 127.0.0.1 now.
func portFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("port %d is not free: %w", port, err)
	}
	return l.Close()
}

// tail keeps the last lines a process wrote, for errors about it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const (
	tailBytes = 8 << 10
	tailLines = 20
)

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns the last tailLines lines written, or "(none)".
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	s := strings.Join(lines, "\n")
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
