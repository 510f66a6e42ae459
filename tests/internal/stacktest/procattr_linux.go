package stacktest

import "syscall"

// sysProcAttr puts the runner in a process group of its own, so Stop reaches what it started in
// it, and has Linux send it SIGTERM when the test process dies without calling Stop (a panicking
// test, the -timeout panic, Ctrl-C): the runner then stops its stand-ins and functions as it does
// for Ctrl-C. The signal fires when the thread that started the runner exits; Go keeps that
// thread alive unless a goroutine locked to it exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
