//go:build !linux

package dynamotest

import "os/exec"

// configure needs nothing special outside Linux.
func configure(cmd *exec.Cmd) {}

// kill stops the JVM. The data is in memory and disposable, so there is
// nothing to shut down gracefully.
func kill(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
}
