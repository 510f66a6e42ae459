// Package lambdapool runs real Lambda function binaries on the local machine, each execution
// environment a process talking to a Lambda Runtime API that the pool serves itself. It exists so
// that a local run exercises the same bootstrap, the same aws-lambda-go runtime loop and the same
// failure modes (timeouts, crashes, throttling) that Lambda would, instead of calling handlers
// in-process where none of that can happen.
//
// The pool knows processes, the Runtime API, deadlines, warm reuse and limits, and nothing about
// where invocations come from: HTTP APIs, queues and other event sources call Invoke, which
// behaves like Lambda's synchronous Invoke.
//
// # One listener per environment
//
// Every execution environment gets its own Runtime API listener on 127.0.0.1:0, and its process
// gets that address in AWS_LAMBDA_RUNTIME_API. A request on a listener therefore comes from that
// environment's runtime, with no need to identify the caller: the pool knows which process asked
// for work, which one answered, and which one to kill when an invocation runs out of time. A
// single shared listener would have to tell runtimes apart by something the Runtime API does not
// carry.
//
// # Life of an invocation
//
// Invoke accepts an invocation if the function is below its concurrency limit (its
// ReservedConcurrency, else Options.DefaultConcurrency); at the limit it returns ErrThrottled at
// once, as Lambda's synchronous Invoke answers 429 rather than queueing. An accepted invocation
// goes to an environment that will ask for work anyway (one starting, or one that has just
// answered), else to an idle one, else to a new process (a cold start). The deadline,
// Lambda-Runtime-Deadline-Ms, is Timeout after the runtime takes the invocation; an environment
// still working at the deadline, even after answering, is killed with its whole process group
// and the invocation fails with Sandbox.Timedout. A process that exits while working fails its
// invocation with Runtime.ExitError; one that exits before asking for work fails the invocation
// it was started for (with the error it posted to /runtime/init/error, if any), and one that does
// not ask for work within Options.InitTimeout is killed. Every environment that failed is
// discarded, so the next invocation starts a new process; a handled error leaves the
// environment warm, as in Lambda.
//
// # Environment variables
//
// A function sees what Lambda would give it (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION,
// AWS_LAMBDA_LOG_FORMAT, _HANDLER, LAMBDA_TASK_ROOT, TZ=:UTC, a fixed PATH, ...), the pool's
// Credentials in place of an execution role's, and its own Function.Env, and nothing of the
// runner's environment. Inheriting the runner's environment would let a function depend on
// something Lambda will not have (a developer's AWS_PROFILE, HOME, AWS_CA_BUNDLE) and pass
// locally only. In particular AWS_CA_BUNDLE is not passed on: functions reach the local
// stand-ins over plain HTTP, through the AWS_ENDPOINT_URL_* variables in Function.Env. Keys
// Lambda reserves cannot be set in Function.Env; Register rejects them.
//
// # What differs from Lambda
//
//   - Environments are not frozen between invocations: background goroutines keep running, and
//     timers keep firing, while an environment is idle.
//   - There is no sandbox: processes share the host's file system (no private /tmp, no
//     read-only /var/task), network and users. The working directory is the directory of the
//     executable, which is also LAMBDA_TASK_ROOT.
//   - The memory limit is approximate: the pool samples the resident set size of the process
//     (VmRSS in /proc/<pid>/status, Linux only) every 50 ms while it works and kills it above
//     MemoryMB, failing the invocation with Runtime.OutOfMemory. A brief spike between samples
//     goes unseen, memory of child processes is not counted, and nothing limits an idle
//     environment. Lambda's cgroup limit is exact. On other platforms the limit is not enforced.
//   - Nothing limits CPU in proportion to memory, and cold starts are much faster than Lambda's.
//   - Concurrency is limited per function; there is no account-wide limit, and a
//     ReservedConcurrency of 0 means "not reserved", not "disabled".
//   - Request payloads and responses are limited to 6 MB as in Lambda, but there is no response
//     streaming, no X-Ray and no CloudWatch: output goes to Options.Logs, each line prefixed
//     "[<function name>] ", with START/END/REPORT lines left out. The Extensions API is served
//     only as far as lambda.WithEnableSIGTERM needs (register, during Init only, as on Lambda;
//     event/next never returns).
//     Shutting an environment down (Close, or IdleTimeout) is Lambda's: SIGKILL, except that a
//     runtime that registered an extension gets SIGTERM and 500 ms first; signal.Notify alone
//     gets no SIGTERM, on Lambda or here.
//   - A runtime that answers but keeps working delays the next invocation for its environment
//     until it asks for work or reaches its deadline; Lambda would route that invocation to
//     another environment.
package lambdapool
