// Package fanout is the domain of the fan-out/fan-in pattern: a batch of N items is split into N
// subtasks, workers process them in parallel from a queue, and a sink joins the results once the
// last one is done.
//
// The hard part is the join under at-least-once delivery. Every subtask's result is written
// together with a decrement of the batch's remaining counter in one DynamoDB transaction,
// conditioned on the result not being there yet, so a redelivered subtask can never count twice.
// The transaction that takes the counter from 1 to 0 also moves the batch from RUNNING to
// AGGREGATING, so exactly one worker learns that it finished the batch and triggers the sink,
// however many finish at the same instant. A worker records the results of its invocation
// together, one transaction per batch, conditioned on more remaining than it records: a group
// never finishes a batch, and one that cannot be recorded whole is recorded one result at a time.
//
// A batch's life:
//
//	RUNNING ──last subtask recorded (remaining 1 → 0)──▶ AGGREGATING ──sink──▶ SUCCEEDED
//	   │                                                      │          └──▶ COMPLETED_WITH_ERRORS
//	   │                                                      │               (some subtasks failed)
//	   ├── fan-out interrupted (not all published by publishBy) ──▶ FAILED
//	   └────────────── not done by its deadline ──────────────┴──────────▶ FAILED
//
// Every transition is a conditional write: the first writer wins and nothing moves a finished batch.
// The deadline is derived from the queues' retries (Sizing.Deadline), so a batch is FAILED by it
// only once no queue has a retry left to give it.
// The package knows nothing about API Gateway or SQS events; the handlers package translates those.
// Its SQS adapter is package sqsqueue, next to this one, so that the functions that send no
// message do not link the SQS SDK.
package fanout
