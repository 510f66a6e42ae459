// Package handlers translates Lambda events into calls on the pricing domain and back: API
// Gateway HTTP API requests for GET /prices/{sku}, POST /quotes and GET /quotes/{quoteId}, and
// SQS batches for the quote worker. It is also where the canary is made visible: every response
// carries the engine in the X-Pricing-Engine header, every log line of a request carries it as
// "engine", and every request leaves one EMF metric line for its engine.
package handlers
