// Package jwt is the local stand-in for the token issuer behind the HTTP API's JWT authorizer.
//
// In AWS the issuer is a Cognito user pool: it signs RS256 access tokens and publishes its
// public keys (a JSON Web Key Set), and API Gateway's JWT authorizer checks every request's
// token against them before any function runs. Locally, an [Issuer] signs tokens with an RSA
// key kept on disk, so `make token` works whether or not the runner is up and tokens survive
// restarts, and a [Verifier] applies the checks the authorizer applies, in the same order.
//
// # Issuer and audience
//
// API Gateway compares a token's iss claim with the configured issuer string exactly, and its
// aud (or client_id) with the configured audiences. Locally both are constants rather than
// something derived from the port the runner happens to listen on: tokens are signed with
// iss [LocalIssuer], the runner configures its Verifier with the same constant, and it
// resolves the template's user pool client ID to [LocalAudience]. The issuer URL is a name,
// never fetched: the runner verifies with the Issuer's keys in process. [Issuer.Handler]
// still serves the key set and an OpenID discovery document, for tools that want them.
//
// # Tokens
//
// [Issuer.Token] writes the claims of a Cognito access token that the authorizer and the
// handlers look at: iss, sub, client_id, token_use "access", iat, exp and jti. It also writes
// aud with the same value as client_id. Cognito access tokens carry only client_id, and the
// authorizer reads client_id only when aud is absent; with both set to the same value the
// result is the same under either rule, and handlers that read aud (as they would from an ID
// token) find it. Like Cognito, it sets no nbf. Extra claims (scope, plan, ...) are added as
// given, but they may not replace a claim Token writes itself: that is an error, so a
// mistyped -claims flag cannot silently produce a token for another user or issuer. Tests
// that need such tokens build the claims themselves and call [Issuer.Sign].
//
// # Verification
//
// [Verifier.Verify] accepts RS256 only (alg "none", HS256 and everything else are refused
// before any key is looked at), requires the header's kid to name a known key, checks the
// signature, then iss, then aud or client_id, then exp, nbf and iat. Times allow
// [ClockSkew] either way. Each failure wraps one of the Err* values, so the HTTP edge can
// log why a token was refused while the client always gets the same 401.
package jwt
