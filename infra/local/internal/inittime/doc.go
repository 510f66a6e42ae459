// Package inittime measures how long each function of the template takes to initialise: the time
// from exec of its bootstrap to its first request for work (GET /runtime/invocation/next) on a
// Lambda Runtime API. It exists for the cold-start benchmark (BenchmarkColdStart), which puts
// every function next to two floors measured in the same rounds: a bare aws-lambda-go hello
// (floors/hello) and the cold start every function shares, the AWS configuration, the logger
// and one DynamoDB client (floors/sdk).
//
// # What is timed
//
// Lambda's Init phase ends when the runtime first asks for an invocation, so that call is the
// end of the measurement; the start is just before exec. In between are the process start,
// package initialisation of everything the binary links, and the function's own cold start
// (configuration, SDK clients, any call it makes). The Runtime API here is the smallest that
// aws-lambda-go needs: it records the first /next and then holds it, answers the Extensions API
// register call (lambda.WithEnableSIGTERM makes it), and records /runtime/init/error. The
// process is then killed; no invocation ever runs.
//
// # Rounds
//
// Measure runs one untimed warm-up round (the binaries come into the page cache, as they would
// be in Lambda's worker cache), then the timed rounds. Every round starts every program once, in
// a new random order, so that a slow moment of the machine lands on different programs and the
// floors share the conditions of the functions they are compared with. Ratios between programs
// of the same run are what a reader should compare; the milliseconds depend on the machine and
// its load.
//
// # The environment
//
// A function gets what Lambda would set (function name, memory size, region, log format and
// level, credentials, _HANDLER, LAMBDA_TASK_ROOT, TZ), its template Environment resolved by
// Environment, and nothing of the benchmark's own environment. Resources the environment names
// are given plausible local values (names, ARNs, queue URLs), without provisioning anything:
// init does not reach them. For the calls a cold start may make, the benchmark points every AWS
// service at an AWSEndpoint (AWS_ENDPOINT_URL) and every HTTPS call outside AWS at an Internet
// (HTTPS_PROXY, SSL_CERT_FILE), both local and both either answering at once or never.
package inittime
