//go:build !linux

package e2e

import "syscall"

// runnerSysProcAttr puts the runner in a process group of its own, so stop reaches what it
// started in it. Other systems have no parent-death signal: if the test process dies without
// calling stop (a panicking test, the -timeout panic), stop the runner by hand.
func runnerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
