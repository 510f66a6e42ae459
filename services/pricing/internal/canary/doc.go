// Package canary records what a canary analysis compares: per request, which engine served it,
// how long it took and whether it failed, as CloudWatch Embedded Metric Format (EMF) lines.
//
// EMF is a JSON log line that CloudWatch Logs turns into metrics without an API call, so a
// function can emit per-engine metrics at no extra latency and alarms can compare v2 with v1
// (Latency and Errors, dimensioned by Service and Engine). The lines are written by shared/metrics.
package canary
