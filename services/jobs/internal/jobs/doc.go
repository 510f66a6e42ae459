// Package jobs is the domain of the decoupled-invocation pattern: a caller submits a job, gets
// 202 Accepted at once, and polls while a worker does the slow part from a queue.
//
// The package holds the rules (what a valid job is, which status may follow which, when a job
// has timed out, what an attempt that failed means) and the DynamoDB adapter that the rules
// consume through small interfaces. The SQS adapter is package sqsqueue, next to this one, so
// that only the function that sends links the SQS SDK. The package knows nothing about API
// Gateway or SQS events: the handlers package translates those.
//
// A job's life:
//
//	PENDING ──worker starts──▶ RUNNING ──work done──▶ SUCCEEDED
//	   │                          │  └──task failed or retries exhausted──▶ FAILED
//	   └──────── past its deadline, not done ──────▶ TIMED_OUT
//
// Every transition is a conditional write, so the first writer wins and a late worker can
// never overwrite TIMED_OUT (or the reverse).
package jobs
