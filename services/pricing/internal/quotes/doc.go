// Package quotes is the asynchronous half of the pricing service: POST /quotes decides the
// engine once, at submission, and the decision travels in the queued message; the worker prices
// with the engine it is handed and never evaluates the flag itself. So a user's quote is priced
// by the engine the user was told about, even if the rollout moved, or the kill switch was
// thrown, while the message waited in the queue.
package quotes
