package standins

import "syscall"

// sysProcAttr puts the stand-in in a process group of its own, so Stop reaches its children
// too, and has Linux kill it if the runner dies without calling Stop (a crashed test run
// must not leave a 250 MB JVM behind). Pdeathsig fires when the thread that started the
// child exits; Go keeps that thread alive unless a goroutine locked to it exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
