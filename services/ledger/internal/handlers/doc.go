// Package handlers translates Lambda events (HTTP API requests, DynamoDB stream batches) into
// ledger calls and the results back into responses. The rules are in package ledger; the mapping
// from domain errors to HTTP statuses lives here and only here.
package handlers
