//go:build !linux

package standins

import "syscall"

// sysProcAttr puts the stand-in in a process group of its own, so Stop reaches its children
// too. Other systems have no parent-death signal: if the runner is killed outright, stop
// the stand-ins by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
