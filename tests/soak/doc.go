// Package soak drives all six patterns at once, at a steady rate, on the local stack with AWS's
// everyday failures injected (infra/local, package faults), then checks each pattern's promises
// against the stand-ins' own state: table reads, queue depths, S3 listings, and the functions'
// log lines where a promise is about how often something ran.
//
// `make soak` runs it for DURATION (default 3m) with the fault file FAULTS (default
// tests/soak/faults.yaml, every kind on); `make test` runs a one-minute seeded soak. The report
// (requests by outcome, faults injected by kind, invariant violations, p50/p99 latency per route)
// is printed and written to SOAK_REPORT (default .cache/soak/report.md). Any violation fails the
// test, naming the seed; so does a pattern the stack accepted fewer than half the operations of
// (its promises would hold on a remnant, or vacuously), or (with all six patterns) a fault kind
// the file turns on that never landed. The seed fixes the sequence of fault decisions, not which concurrent
// request meets each, so a failing run is repeated in kind, not replayed exactly.
package soak
