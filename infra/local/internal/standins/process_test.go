package standins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run this test binary as a fake stand-in: TestMain turns into the
// helper named by STANDINS_TEST_HELPER instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("STANDINS_TEST_HELPER"); mode != "" {
		runHelper(mode)
		return
	}
	os.Exit(m.Run())
}

// runHelper behaves as a stand-in would, in one of several ways.
func runHelper(mode string) {
	if f := os.Getenv("HELPER_PID_FILE"); f != "" {
		writeFile(f, strconv.Itoa(os.Getpid()))
	}
	if f := os.Getenv("HELPER_ATTEMPTS_FILE"); f != "" {
		appendLine(f, "attempt")
	}
	switch mode {
	case "serve", "serve-stubborn":
		if mode == "serve-stubborn" {
			signal.Ignore(syscall.SIGTERM)
		}
		if f := os.Getenv("HELPER_CHILD_PID_FILE"); f != "" {
			// A child that ignores SIGTERM and outlives its parent unless its group is killed.
			child := exec.Command(os.Args[0])
			child.Env = append(os.Environ(), "STANDINS_TEST_HELPER=stubborn-sleep", "HELPER_PID_FILE=", "HELPER_ATTEMPTS_FILE=")
			if err := child.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			writeFile(f, strconv.Itoa(child.Process.Pid))
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("HELPER_PORT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /", func(http.ResponseWriter, *http.Request) {})
		mux.HandleFunc("GET /quit", func(http.ResponseWriter, *http.Request) { os.Exit(4) })
		fmt.Println("serving")
		http.Serve(l, mux)
	case "stubborn-sleep":
		signal.Ignore(syscall.SIGTERM)
		select {}
	case "silent":
		select {}
	case "exit":
		for i := 1; i <= 30; i++ {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
		os.Exit(3)
	case "in-use", "in-use-hang":
		fmt.Fprintln(os.Stderr, "java.net.BindException: Address already in use")
		if mode == "in-use-hang" { // as DynamoDB Local does
			select {}
		}
		os.Exit(1)
	}
	os.Exit(5)
}

func writeFile(path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		panic(err)
	}
}

func appendLine(path, s string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fprintln(f, s)
}

// helperSpec runs this test binary in mode as a stand-in, with extra environment.
func helperSpec(mode string, env ...string) spec {
	return spec{
		name: "helper " + mode,
		path: os.Args[0],
		args: func(int) []string { return nil },
		env: func(port int) []string {
			return append([]string{"STANDINS_TEST_HELPER=" + mode, "HELPER_PORT=" + strconv.Itoa(port)}, env...)
		},
		ready:        httpReady("/"),
		readyTimeout: 30 * time.Second,
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("parse pid %q: %v", data, err)
	}
	return pid
}

// processGone reports whether pid has exited. A zombie counts as gone: it has exited, and
// whether anyone reaps it is up to init, which in a container may never do so.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// waitGone fails the test unless pid exits soon; signals are delivered asynchronously.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d): still running, want it gone", what, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertPortClosed(t *testing.T, port int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("port %d: accepted a connection after Stop, want it closed", port)
	}
}

func TestStartAndStopKillsTheWholeGroup(t *testing.T) {
	childPIDFile := filepath.Join(t.TempDir(), "child.pid")
	var logs syncBuffer
	p, err := start(t.Context(), helperSpec("serve", "HELPER_CHILD_PID_FILE="+childPIDFile), 0, &logs)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	childPID := readPID(t, childPIDFile)
	t.Cleanup(func() {
		p.Stop()
		syscall.Kill(childPID, syscall.SIGKILL)
	})

	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") || p.URL != "http://127.0.0.1:"+strconv.Itoa(p.Port) {
		t.Errorf("URL: got %q with port %d, want http://127.0.0.1:<port>", p.URL, p.Port)
	}
	resp, err := http.Get(p.URL + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "serving") {
		t.Errorf("logs: got %q, want the helper's output", logs.String())
	}

	pid := p.PID()
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-p.Done():
	default:
		t.Errorf("Done: still open after Stop, want closed")
	}
	waitGone(t, pid, "stand-in")
	waitGone(t, childPID, "child that ignores SIGTERM")
	assertPortClosed(t, p.Port)
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: got %v, want the first call's nil", err)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	s := helperSpec("serve-stubborn")
	s.stopGrace = 200 * time.Millisecond
	p, err := start(t.Context(), s, 0, nil)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitGone(t, p.PID(), "stand-in that ignores SIGTERM")
	assertPortClosed(t, p.Port)
}

func TestStopReportsAnEarlierExit(t *testing.T) {
	p, err := start(t.Context(), helperSpec("serve"), 0, nil)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	if resp, err := http.Get(p.URL + "/quit"); err == nil {
		resp.Body.Close()
	}
	<-p.Done()
	err = p.Stop()
	if err == nil || !strings.Contains(err.Error(), "already exited") || !strings.Contains(err.Error(), "serving") {
		t.Errorf("Stop: got %v, want an error saying it had exited, with its output", err)
	}
}

func TestStartReportsExitBeforeReady(t *testing.T) {
	_, err := start(t.Context(), helperSpec("exit"), 0, nil)
	if !errors.Is(err, errExited) {
		t.Fatalf("start: got %v, want %v", err, errExited)
	}
	msg := err.Error()
	for _, want := range []string{"helper exit", "exit status 3", "line 11\n", "line 30"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error: got %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "line 10\n") {
		t.Errorf("error: got %q, want only the last %d lines", msg, tailLines)
	}
	if errors.Is(err, errPortInUse) {
		t.Errorf("error: got %v, want no port-in-use verdict", err)
	}
}

func TestStartRetriesOnceWhenAPickedPortIsTaken(t *testing.T) {
	tests := []struct {
		name         string
		mode         string
		port         int
		wantAttempts int
	}{
		{name: "picked port: retried once", mode: "in-use", port: 0, wantAttempts: 2},
		{name: "picked port, process hangs on: retried once", mode: "in-use-hang", port: 0, wantAttempts: 2},
		{name: "given port: not retried", mode: "in-use", port: mustFreePort(t), wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			attempts := filepath.Join(dir, "attempts")
			pidFile := filepath.Join(dir, "pid")
			// A generous bound: a hanging process must be recognised by its output, not waited out.
			s := helperSpec(tt.mode, "HELPER_ATTEMPTS_FILE="+attempts, "HELPER_PID_FILE="+pidFile)
			_, err := start(t.Context(), s, tt.port, nil)
			if !errors.Is(err, errPortInUse) {
				t.Fatalf("start: got %v, want %v", err, errPortInUse)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("start: got %v, want the failed bind noticed before the ready timeout", err)
			}
			data, err := os.ReadFile(attempts)
			if err != nil {
				t.Fatalf("read attempts: %v", err)
			}
			if got := strings.Count(string(data), "attempt"); got != tt.wantAttempts {
				t.Errorf("attempts: got %d, want %d", got, tt.wantAttempts)
			}
			waitGone(t, readPID(t, pidFile), "last attempt")
		})
	}
}

func TestStartRefusesAPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	attempts := filepath.Join(t.TempDir(), "attempts")
	_, err = start(t.Context(), helperSpec("serve", "HELPER_ATTEMPTS_FILE="+attempts), l.Addr().(*net.TCPAddr).Port, nil)
	if err == nil {
		t.Fatalf("start: got no error, want one: the readiness check would have reached the other server")
	}
	if _, statErr := os.Stat(attempts); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("attempts file: got %v, want none: nothing should have been started", statErr)
	}
}

func TestStartGivesUpWhenNotReady(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := start(ctx, helperSpec("silent", "HELPER_PID_FILE="+pidFile), 0, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("start: got %v, want %v", err, context.DeadlineExceeded)
	}
	waitGone(t, readPID(t, pidFile), "stand-in that never became ready")
}

func TestStartReportsAMissingProgram(t *testing.T) {
	s := helperSpec("serve")
	s.path = filepath.Join(t.TempDir(), "no-such-program")
	if _, err := start(t.Context(), s, 0, nil); err == nil || !strings.Contains(err.Error(), "no-such-program") {
		t.Errorf("start: got %v, want an error naming the program", err)
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		name  string
		write []string
		want  string
	}{
		{name: "nothing", write: nil, want: "(none)"},
		{name: "blank lines", write: []string{"\n\n"}, want: "(none)"},
		{name: "split writes", write: []string{"hel", "lo\nwor", "ld\n"}, want: "hello\nworld"},
		{name: "keeps the last lines", write: []string{strings.Repeat("x\n", 30) + "a\nb\n"}, want: strings.Repeat("x\n", tailLines-2) + "a\nb"},
		{name: "keeps the last bytes", write: []string{strings.Repeat("y", tailBytes*2) + "\nend\n"}, want: strings.Repeat("y", tailBytes-5) + "\nend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl tail
			for _, w := range tt.write {
				tl.Write([]byte(w))
			}
			if got := tl.String(); got != tt.want {
				t.Errorf("String: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInUse(t *testing.T) {
	tests := []struct {
		output string
		want   bool
	}{
		{output: "java.net.BindException: Address already in use", want: true},
		{output: "Error: listen EADDRINUSE: address already in use 0.0.0.0:4566", want: true},
		{output: "listen tcp 127.0.0.1:7070: bind: address already in use", want: true},
		{output: "Error: Unable to access jarfile DynamoDBLocal.jar", want: false},
	}
	for _, tt := range tests {
		if got := inUse(tt.output); got != tt.want {
			t.Errorf("inUse(%q): got %v, want %v", tt.output, got, tt.want)
		}
	}
}

func mustFreePort(t *testing.T) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("freePort: %v", err)
	}
	return port
}

// syncBuffer is a bytes.Buffer safe for the process's output goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
