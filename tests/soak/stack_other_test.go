//go:build !linux

package soak

import "syscall"

// runnerSysProcAttr puts the runner in a process group of its own, so stop reaches what it
// started in it.
func runnerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
