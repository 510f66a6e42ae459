//go:build !linux

package stacktest

import "syscall"

// sysProcAttr puts the runner in a process group of its own, so Stop reaches what it started in
// it. Other systems have no parent-death signal: if the test process dies without calling Stop (a
// panicking test, the -timeout panic), stop the runner by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
