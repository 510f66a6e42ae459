// Package ops collects what the local runner sees while the application runs — invocations,
// errors, durations, cold starts and throttles per function, depth and age of every queue, and
// the metrics functions write in CloudWatch's embedded metric format (EMF) — so that a user sees
// locally the signals CloudWatch would show after a deploy. The runner serves them at /.web/ops/
// and prints them as a table when it stops. Nothing here is deployed.
package ops
