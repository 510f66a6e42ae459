package dynamotest

import (
	"os/exec"
	"syscall"
)

// configure puts the JVM in its own process group, so stop can kill
// everything it started, and asks the kernel to kill it if the test binary
// dies first (a panic, a -timeout), so no JVM outlives its tests. (The
// kernel sends that signal when the forking OS thread exits; Go keeps its
// threads for the life of the process unless a goroutine locked to one
// exits, which nothing here does.)
func configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// kill stops the JVM's process group. The data is in memory and disposable,
// so there is nothing to shut down gracefully.
func kill(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
