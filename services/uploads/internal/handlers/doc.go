// Package handlers translates Lambda events into calls on the uploads domain and the answers
// back: API Gateway HTTP API requests for POST /uploads, GET /uploads/{uploadId} and
// GET /uploads/{uploadId}/download, and S3 ObjectCreated notifications for the verifier. Status
// codes are chosen here and nowhere else.
package handlers
