// Package flags decides which pricing engine serves a user, with the LaunchDarkly Go server SDK
// (v7), and hides the SDK behind one method: Evaluate(ctx, user) → engine and reason.
//
// It exists because the SDK's defaults suit a long-running server, not Lambda. Here the client
// is built once per execution environment with a bounded start-up wait; a client that could not
// start (LaunchDarkly unreachable, a wrong key) still serves: every evaluation answers the
// fallback engine, v1, and says why. Where flag data comes from is configuration: polling
// LaunchDarkly (no streaming connection, which a frozen Lambda environment would drop), a
// DynamoDB table the LaunchDarkly Relay Proxy fills (daemon mode), or a local file (local runs
// and tests, where no LaunchDarkly service is reachable). Analytics events are flushed at the
// end of an invocation that evaluated a flag, because a frozen environment sends nothing.
package flags
