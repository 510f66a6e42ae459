// Package handlers translates Lambda events into calls on the fanout domain and the answers back:
// API Gateway HTTP API requests for POST /batches and GET /batches/{batchId}, and SQS batches for
// the workers, the dead-letter recorder and the sink. Status codes are chosen here and nowhere else.
package handlers
