//go:build unix

package lambdapool

import "syscall"

// Signals the pool sends.
const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// processGroup puts a function's process in a group of its own, so that killing the group takes
// anything it started too, and a Ctrl-C meant for the runner does not reach it before the runner
// decides how to stop.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to the process group that pid leads. Pid 0 (not started) is ignored, and
// so is a group that no longer exists.
func signalGroup(pid int, sig syscall.Signal) {
	if pid > 0 {
		_ = syscall.Kill(-pid, sig)
	}
}
