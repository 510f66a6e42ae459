package stacktest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopGrace is how long Stop waits for the runner to stop its stand-ins and functions after
// SIGTERM before it kills the runner's process group.
const StopGrace = 20 * time.Second

// BuildTools builds the runner and the token tool of infra/local under root into bin, and returns
// their paths.
func BuildTools(root, bin string) (runner, token string, err error) {
	for _, tool := range []string{"runner", "token"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "./cmd/"+tool)
		build.Dir = filepath.Join(root, "infra", "local")
		if out, err := build.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("build %s: %v\n%s", tool, err, out)
		}
	}
	return filepath.Join(bin, "runner"), filepath.Join(bin, "token"), nil
}

// Runner is a running local stack.
type Runner struct {
	// LogPath is the runner's own log (its standard error).
	LogPath string
	// Ready receives the API_URL the runner prints once the stack is up, Pages the PAGES_URL it
	// prints next.
	Ready, Pages <-chan string
	// Exited is closed once the runner has exited; WaitErr then says how.
	Exited <-chan struct{}

	name    string
	waitErr error
	drained chan struct{}
	stop    func()
}

// WaitErr is how the runner exited, once Exited is closed.
func (r *Runner) WaitErr() error {
	<-r.Exited
	return r.waitErr
}

// Stop ends the runner and everything in its process group: SIGTERM lets the runner stop its
// stand-ins and functions (each in a group of its own); SIGKILL, StopGrace later, ends whatever is
// left in its group, the runner itself if it hung. It returns once what the runner printed last
// (its table on stop) has been read. Calling it again does nothing.
func (r *Runner) Stop() { r.stop() }

// Start starts the runner at path with args in a process group of its own, its log in
// runner.log in work, and every line of its standard output but API_URL and PAGES_URL (the
// functions' logs) added to logs. name prefixes what Stop reports on standard error.
func Start(name, path, work string, logs *Logs, args ...string) (*Runner, error) {
	logPath := filepath.Join(work, "runner.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create the runner log: %w", err)
	}
	defer logFile.Close() // the runner has its own copy once started
	// An *os.File as Stdout reaches the runner directly, so Wait never waits for a copy to
	// finish, and the reader below gets EOF once every process holding the pipe has exited.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make the runner's stdout pipe: %w", err)
	}
	defer stdoutW.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout = stdoutW
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		return nil, fmt.Errorf("start the runner: %w", err)
	}

	ready, pages := make(chan string, 1), make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		defer stdout.Close()
		// A bufio.Reader, not a Scanner: a Scanner stops at its first over-long line, and a
		// runner whose stdout nobody drains blocks on its next write.
		lines := bufio.NewReader(stdout)
		for {
			line, err := lines.ReadString('\n')
			if line = strings.TrimSuffix(line, "\n"); line != "" {
				if url, ok := strings.CutPrefix(line, "API_URL="); ok {
					send(ready, url)
				} else if url, ok := strings.CutPrefix(line, "PAGES_URL="); ok {
					send(pages, url)
				} else {
					logs.Add(line)
				}
			}
			if err != nil {
				return
			}
		}
	}()

	exited := make(chan struct{})
	r := &Runner{LogPath: logPath, Ready: ready, Pages: pages, Exited: exited, name: name, drained: drained}
	go func() {
		r.waitErr = cmd.Wait()
		close(exited)
	}()
	pgid := cmd.Process.Pid
	r.stop = sync.OnceFunc(func() {
		r.signalGroup(pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(StopGrace):
			fmt.Fprintf(os.Stderr, "%s: the runner did not stop within %v of SIGTERM; killing its process group\n", name, StopGrace)
		}
		r.signalGroup(pgid, syscall.SIGKILL)
		<-exited
		// Unless a process the runner left behind still holds its standard output.
		select {
		case <-drained:
		case <-time.After(StopGrace):
			fmt.Fprintf(os.Stderr, "%s: the runner's standard output was still open after it exited\n", name)
		}
	})
	return r, nil
}

// send hands v to a channel of one that nobody may read: a second value is dropped.
func send(c chan<- string, v string) {
	select {
	case c <- v:
	default:
	}
}

// signalGroup sends sig to the process group pgid leads; a group already gone is fine.
func (r *Runner) signalGroup(pgid int, sig syscall.Signal) {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "%s: send %v to the runner's process group %d: %v\n", r.name, sig, pgid, err)
	}
}
