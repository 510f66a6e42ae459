// Package stacktest starts the local runner (infra/local) for the tests that need a whole stack,
// the end-to-end suite and the soak, and reads what it says: the functions' log lines on its
// standard output, its outputs.json. It is one place for what both would otherwise copy: how the
// runner is built, started in a process group of its own and stopped with everything it started,
// and how a stack's outputs and its nested stacks' are merged (MergeOutputs, for a deployed stack
// too).
package stacktest
