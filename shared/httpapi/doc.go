// Package httpapi is the HTTP edge of the functions behind an API Gateway
// HTTP API (payload format 2.0): strict JSON request decoding, JSON
// responses, and errors as RFC 9457 problem details.
//
// It exists so that every service answers errors the same way and so that
// the one rule that matters most at the edge is written once: a caller sees
// the domain errors it can act on (mapped to statuses with [ErrorRule]) and
// never an internal error, which may name tables, queues or other detail an
// attacker can use. Internal errors are logged once here, with the
// correlation ID, and answered with a bare 500; the x-correlation-id header
// on every response lets a caller quote the ID that finds that log line.
package httpapi
