// Package handlers translates Lambda events into calls on the jobs domain and the answers back:
// API Gateway HTTP API requests for POST /jobs and GET /jobs/{jobId}, and SQS batches for the
// worker. Status codes are chosen here and nowhere else.
package handlers
