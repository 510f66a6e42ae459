// Package httpapi is the HTTP edge of the functions behind an API Gateway
// HTTP API (payload format 2.0): strict JSON request decoding, JSON
// responses, and errors as RFC 9457 problem details.
//
// It exists so that every service answers errors the same way and so that
// the one rule that matters most at the edge is written once: a caller sees
// the domain errors it can act on (mapped to statuses with [ErrorRule], or
// naming a field through [InvalidParamError]) and never an internal error,
// which may name tables, queues or other detail an attacker can use.
// Internal errors are logged once here, with the correlation ID, and
// answered with a bare 500; the x-correlation-id header on every response
// lets a caller quote the ID that finds that log line.
//
// # What reaches a service's keys
//
// Everything a caller sends that ends up inside a DynamoDB or S3 key is
// checked here before any store sees it, so that no input can make two
// callers' keys collide or answer 500 for a key AWS refuses:
//
//   - the caller's subject ([Subject]): no subject is 401; a subject this API
//     cannot put in a key ("/", control characters, longer than
//     [MaxSubjectLength]) is 403, because the token is genuine and signing in
//     again cannot change it;
//   - ids in the path ([PathID]): one that does not have the format of the
//     service's ids is answered as an unknown one, 404;
//   - the Idempotency-Key header ([IdempotencyKey]): 400 unless it is 1 to
//     [MaxIdempotencyKeyLength] printable ASCII characters.
package httpapi
