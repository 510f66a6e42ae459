//go:build !unix

package lambdapool

import (
	"os"
	"syscall"
)

// Signals the pool sends; without process groups both end in os.Process.Kill.
const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// processGroup returns nil: there are no process groups to create here.
func processGroup() *syscall.SysProcAttr {
	return nil
}

// signalGroup kills the process pid. Without process groups, anything it started survives it.
func signalGroup(pid int, _ syscall.Signal) {
	if pid <= 0 {
		return
	}
	if proc, err := os.FindProcess(pid); err == nil {
		_ = proc.Kill()
	}
}
