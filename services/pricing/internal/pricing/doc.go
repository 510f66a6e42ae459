// Package pricing is the domain of the pricing service: a small catalogue and two pricing
// engines. v1 charges the list price; v2, the engine being rolled out behind a feature flag, adds
// volume and plan discounts. Both are pure functions of their input, so a request priced twice by
// the same engine gets the same answer, and a quote priced later by a worker gets the price the
// engine chosen at submission gives.
package pricing
