// Package flags decides which pricing engine serves a user: Evaluate(ctx, user) → engine and
// reason, and Flush at the end of an invocation that evaluated.
//
// It links no flag SDK and no AWS SDK, so that the functions which only carry a decision made
// elsewhere (GetQuote, ProcessQuote) pay nothing at cold start for the ones that make it. Where
// decisions come from is package flags/launchdarkly; this package holds what every function
// shares (User, Reason, Evaluator, the v1 Fallback) and Async, which lets a function start its
// flag client without waiting for it: a cold start does no network wait, the first requests wait
// for flag data only within a bound, and a request that cannot have it is served v1 and says so.
package flags
