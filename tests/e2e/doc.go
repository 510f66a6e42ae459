// Package e2e holds the end-to-end tests: real HTTP requests against a whole stack.
//
// By default TestMain starts the local stack itself (the runner from infra/local on free ports,
// with its own state directory) and stops it afterwards. With E2E_STACK=<stack name> the same
// tests run against a deployed stack instead: the API URL, user pool and queue names come from
// the stack's CloudFormation outputs, and tokens from its Cognito user pool (`make e2e STACK=...`,
// needs AWS credentials). Tests that read the functions' logs run only on the local stack, where
// the runner hands them over; they say so when skipped.
package e2e
