// Package launchdarkly evaluates the pricing flag with the LaunchDarkly Go server SDK (v7), and
// is the only package that imports it: the handlers see a flags.Evaluator. It reads its SDK key
// through a ParameterReader (package ssmparam in the functions).
//
// It exists because the SDK's defaults suit a long-running server, not Lambda. Start builds the
// client in the background (flags.Async), so a cold start waits neither for SSM nor for
// LaunchDarkly; a client that could not start (LaunchDarkly unreachable, a wrong key) still
// serves: every evaluation answers the fallback engine, v1, and says why. Where flag data comes
// from is configuration: polling LaunchDarkly (no streaming connection, which a frozen Lambda
// environment would drop), a DynamoDB table the LaunchDarkly Relay Proxy fills (daemon mode), or
// a local file (local runs and tests, where no LaunchDarkly service is reachable). Analytics
// events are flushed at the end of an invocation that evaluated a flag, because a frozen
// environment sends nothing.
package launchdarkly
