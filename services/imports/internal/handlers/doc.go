// Package handlers translates the events of the imports functions (API Gateway HTTP API
// requests, S3 notifications, the chain's own invoke payloads, and Lambda's destination records
// on the failure queue) into calls of package imports, and its results back into responses.
package handlers
