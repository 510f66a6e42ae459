// Package faults injects, on demand, the everyday failures AWS delivers, so that a local run can
// prove a pattern's promises under them rather than case by case.
//
// A Config (a small YAML or JSON file: make run FAULTS=faults.yaml) lists rules, each a fault
// Kind with a probability and an optional scope: the function (logical ID), the operation (an IAM
// action such as dynamodb:PutItem, or a service such as dynamodb; for function and delivery
// faults the event source: http, sqs, stream, async, invoke) and the resource (a substring of
// the ARN acted on). An Injector draws every decision from one generator seeded by Config.Seed:
// the same seed gives the same sequence of draws, but under concurrency which request meets which
// draw follows arrival order, and a kill lands only if the invocation is still running, so a run
// of many concurrent requests is not replayed exactly; the seed makes runs comparable, and each
// injected fault is logged with what it hit.
//
// Faults are applied where AWS would produce them:
//
//   - Service errors, latency and lost answers at the stand-ins' front (package gateway, which
//     asks Injector.Gateway for every request a function signs): DynamoDB
//     ProvisionedThroughputExceededException, ThrottlingException, TransactionConflictException and
//     500 InternalServerError; SQS RequestThrottled and 500; SNS Throttling and 500; S3 503
//     SlowDown and 500; added latency; a connection reset after the stand-in applied the request.
//   - Delivery and function faults around each invocation an event source makes (Injector.Invoker
//     wraps the pool): an SQS batch delivered to two consumers at once or again after its
//     visibility timeout, an async event delivered twice, a stream batch retried, the process
//     killed at a random point, the invocation timing out, the cold start failing, Lambda
//     answering 429.
//
// Every injected fault is logged ("fault injected", with the seed, kind, function, operation and
// resource) and counted (Injector.Counts, and the ops page through Observer). A nil *Injector
// injects nothing.
package faults
