// Package e2e holds the end-to-end tests: real HTTP requests against a whole stack.
//
// By default TestMain starts the local stack itself (the runner from infra/local on free ports,
// with its own state directory) and stops it afterwards. With E2E_STACK=<stack name> the same
// tests run against a deployed stack instead (`make e2e STACK=...`, needs AWS credentials):
//
//   - Outputs: the root stack's, plus those of the stacks nested in it, one per service (its
//     resources of type AWS::CloudFormation::Stack: JobsApp, FanoutApp, ...), in one map. The
//     nested stacks' ApiUrl and AlarmTopicArn are left out: a service's API URL is the root's
//     <Svc>ApiUrl (JobsApiUrl, ...). Any other key output by two stacks fails the run.
//   - Function names (for the tests that invoke a function): DescribeStackResource on the
//     service's nested stack. Locally the runner lists them in its outputs.json.
//   - Tokens: from the stack's Cognito user pool, for test users the tests create there.
//
// Tests that read the functions' logs run only on the local stack, where the runner hands them
// over; they say so when skipped.
//
// Each service's tests live in <svc>_test.go and reach their service through a value of type
// service (const jobs service = "Jobs"): its API and its functions. Every other file is the
// harness, which names no service. A fork of one service keeps the harness and that service's
// file; forkcheck (a package below this one) checks that each service's file, and the harness
// alone, compile without the others.
package e2e
