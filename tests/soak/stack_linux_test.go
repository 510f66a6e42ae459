package soak

import "syscall"

// runnerSysProcAttr puts the runner in a process group of its own, so stop reaches what it
// started in it, and has Linux send it SIGTERM when the test process dies without calling stop.
func runnerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
