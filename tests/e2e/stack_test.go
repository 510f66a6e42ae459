package e2e

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/tests/internal/stacktest"
)

// stack is what the tests need to know about the stack under test, local or deployed.
type stack struct {
	// outputs are the stack's outputs by key, those of its nested stacks included (stacktest.MergeOutputs).
	outputs map[string]string
	// token returns a valid access token for user, with extra claims.
	token func(t *testing.T, user string, claims map[string]string) string
	// forgedToken and expiredToken return tokens the authorizer must reject (local only).
	forgedToken  func(t *testing.T, user string) string
	expiredToken func(t *testing.T, user string) string
	sqs          *sqs.Client
	dynamodb     *dynamodb.Client
	s3           *s3.Client
	// lambda invokes the stack's functions directly, as their event sources do.
	lambda *lambda.Client
	// functionName returns the name the function logicalID of the nested application app
	// (JobsApp, ...) has in the stack.
	functionName func(t *testing.T, app, logicalID string) string
	// logs holds every line the functions wrote (local only; nil for a deployed stack).
	logs *stacktest.Logs
	// runnerLog is the local runner's own log file ("" for a deployed stack).
	runnerLog string
	// pagesURL is the index of the local pages the runner printed as PAGES_URL ("" for a
	// deployed stack, which serves no pages).
	pagesURL string
}

// st is the stack under test, set once by TestMain before any test runs.
var st *stack

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests finds or starts the stack and runs the tests. It returns the exit code instead of
// exiting, so that the deferred stop runs on every way out of it, a panic in TestMain included.
// A panicking test ends the process from the test's own goroutine, where no deferred call of
// TestMain runs: there the runner's parent-death signal (set by stacktest.Start) stops the stack.
func runTests(m *testing.M) int {
	if name := os.Getenv("E2E_STACK"); name != "" {
		s, err := deployedStack(context.Background(), name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		st = s
		return m.Run()
	}
	s, stop, err := localStack()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stop()
	st = s
	code := m.Run()
	if denied := iamDenials(s.runnerLog); len(denied) > 0 {
		// The local stack enforces each function's role as AWS does: a call refused here is a
		// call that fails on AWS, whether or not a test noticed. No test provokes one on purpose.
		fmt.Fprintf(os.Stderr, "e2e: the runner refused %d AWS calls a function's role does not allow (they would fail on AWS too):\n%s\n", len(denied), strings.Join(denied, "\n"))
		return 1
	}
	// The runner prints what it saw (the ops page's numbers) when it stops, as `make run` does:
	// the suite's run, for a reader of its output, and a failure if the table is missing.
	stop()
	table := s.logs.From(opsTableHeader)
	if len(table) == 0 {
		fmt.Fprintf(os.Stderr, "e2e: the runner printed no %q table when it stopped\n", opsTableHeader)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: the local runner's signals for this run:\n%s\n", strings.Join(table, "\n"))
	return code
}

// opsTableHeader starts the table the runner prints when it stops (infra/local/internal/ops).
const opsTableHeader = "Signals seen locally from "

// iamDenials returns the runner's "IAM denied" log lines.
func iamDenials(logPath string) []string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return []string{fmt.Sprintf("read the runner log %s: %v", logPath, err)}
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		// Denied by a role, or refused because the gateway could not tell what the request needs
		// (it never forwards those). Unsigned requests and unknown keys are left out: tests send
		// them on purpose, and no function can.
		if strings.Contains(line, `msg="IAM denied"`) || strings.Contains(line, `msg="IAM refused a request"`) ||
			strings.Contains(line, `msg="IAM refused a request it cannot classify"`) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// repoRoot is the repository root, two levels up from tests/e2e.
func repoRoot() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}

// Waits of the local stack. Start-up builds every function first, which takes minutes on a
// loaded machine (a runner asked to stop has stacktest.StopGrace).
const (
	startTimeout = 3 * time.Minute
	// logTailLines is how much of the runner's log an error about the runner quotes.
	logTailLines = 60
)

// localStack builds and starts the runner on free ports, as `make run` does, and waits for
// API_URL. stop ends the runner and removes its work directory (kept with E2E_KEEP=1); calling
// it again does nothing. On error nothing is left running.
func localStack() (_ *stack, stop func(), err error) {
	root := repoRoot()
	cache := cmp.Or(os.Getenv("E2E_CACHE"), filepath.Join(root, ".cache"))
	work, err := os.MkdirTemp("", "e2e-stack-")
	if err != nil {
		return nil, nil, fmt.Errorf("make the stack's work directory: %w", err)
	}
	removeWork := func() {
		if os.Getenv("E2E_KEEP") == "" {
			_ = os.RemoveAll(work)
		}
	}
	defer func() {
		if err != nil {
			removeWork()
		}
	}()
	runnerPath, tokenPath, err := stacktest.BuildTools(root, filepath.Join(work, "bin"))
	if err != nil {
		return nil, nil, err
	}

	logs := &stacktest.Logs{}
	r, err := stacktest.Start("e2e", runnerPath, work, logs,
		"-template", filepath.Join(root, "template.yaml"),
		"-cache", cache,
		"-state", filepath.Join(work, "state"),
		"-port", "0",
		"-stack", "e2e",
		// Failed messages come back after their consumer's Timeout instead of 6 × it, so retries
		// and the dead-letter queues are testable (queueRedelivery).
		"-max-visibility-timeout", maxVisibilityTimeout.String(),
	)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()

	// API_URL says the stack is up; each service's API URL is among the outputs.
	select {
	case <-r.Ready:
	case <-r.Exited:
		return nil, nil, failure(r, fmt.Sprintf("the runner exited before it printed API_URL (%v)", r.WaitErr()))
	case <-time.After(startTimeout):
		return nil, nil, failure(r, fmt.Sprintf("the local stack did not print API_URL within %v", startTimeout))
	}
	// PAGES_URL, the index of the local pages, is the line after API_URL.
	var pagesURL string
	select {
	case pagesURL = <-r.Pages:
	case <-time.After(10 * time.Second):
		return nil, nil, failure(r, "the local stack printed API_URL but no PAGES_URL after it")
	}

	outputs, err := stacktest.ReadOutputs(filepath.Join(work, "state"))
	if err != nil {
		return nil, nil, err
	}
	merged, err := stacktest.MergeOutputs(outputs.Stack, outputs.Nested)
	if err != nil {
		return nil, nil, fmt.Errorf("runner outputs: %w", err)
	}
	awsCfg := aws.Config{Region: outputs.Region, Credentials: credentials.NewStaticCredentialsProvider(outputs.AccessKeyID, outputs.SecretAccessKey, "")}
	tokenCmd := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := exec.Command(tokenPath, args...).Output()
		if err != nil {
			t.Fatalf("make token %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	return &stack{
			outputs: merged,
			token: func(t *testing.T, user string, claims map[string]string) string {
				c, _ := json.Marshal(claims)
				return tokenCmd(t, "-user", user, "-claims", string(c), "-key", outputs.JWTKeyFile)
			},
			forgedToken: func(t *testing.T, user string) string {
				// Same issuer and audience, signed with a key the runner has never seen.
				return tokenCmd(t, "-user", user, "-key", filepath.Join(t.TempDir(), "forger.pem"))
			},
			expiredToken: func(t *testing.T, user string) string {
				// The shortest token there is, then past its expiry and the authorizer's clock skew allowance.
				tok := tokenCmd(t, "-user", user, "-key", outputs.JWTKeyFile, "-ttl", "1s")
				time.Sleep(7 * time.Second)
				return tok
			},
			sqs: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(outputs.Endpoints["sqs"]) }),
			dynamodb: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
				o.BaseEndpoint = aws.String(outputs.Endpoints["dynamodb"])
				o.DisableValidateResponseChecksum = true // DynamoDB Local omits the CRC32 on errors
			}),
			// versitygw at http://127.0.0.1:<port>: the SDK addresses an IP endpoint path-style by itself.
			s3: s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(outputs.Endpoints["s3"]) }),
			// The runner's Lambda Invoke API, which its functions also call.
			lambda: lambda.NewFromConfig(awsCfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(outputs.Endpoints["lambda"]) }),
			// Logical IDs are unique across the app, so the runner's names need no app to find.
			functionName: func(t *testing.T, _, logicalID string) string {
				t.Helper()
				name := outputs.FunctionNames[logicalID]
				if name == "" {
					t.Fatalf("the runner's outputs.json names no function %s", logicalID)
				}
				return name
			},
			logs:      logs,
			runnerLog: r.LogPath,
			pagesURL:  pagesURL,
		}, sync.OnceFunc(func() {
			select {
			case <-r.Exited: // a runner that died mid-run fails every test after it: say why
				fmt.Fprintln(os.Stderr, "e2e:", failure(r, fmt.Sprintf("the runner exited while the tests ran (%v)", r.WaitErr())))
			default:
			}
			r.Stop()
			removeWork()
		}), nil
}

// failure stops the runner and returns an error saying what went wrong, with the tail of the
// runner's log (call it before the work directory is removed).
func failure(r *stacktest.Runner, what string) error {
	r.Stop()
	return fmt.Errorf("%s; the last %d lines of its log (E2E_KEEP=1 keeps %s and the stand-ins' logs):\n%s",
		what, logTailLines, r.LogPath, logTail(r.LogPath, logTailLines))
}

// logTail returns the last n lines of the file at path, or why it could not be read.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read it: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// subject returns the sub claim of an access token the test was given: the caller as the API
// sees it, which owns the caller's records and prefixes the caller's keys (imports/{sub}/...).
// The local issuer's tokens carry the user name there; Cognito's a UUID. The token is decoded
// without verifying it: the test trusts where it got it.
func subject(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts; want a JWT's 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		t.Fatalf("decode the token's payload: %v", err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub == "" {
		t.Fatalf("token payload %s: no sub claim (%v)", payload, err)
	}
	return claims.Sub
}

// requireLocal skips a test that needs what only the local stack offers (function logs, forging tokens).
func requireLocal(t *testing.T) {
	t.Helper()
	if st.logs == nil {
		t.Skip("needs the local stack: it reads function logs or signs tokens with the local key")
	}
}

// eventually calls check every interval until it reports done, and fails the test with the
// last state check described once timeout has passed. check fails the test itself (t.Fatal)
// for an answer that is wrong rather than not yet final.
func eventually(t *testing.T, timeout, interval time.Duration, check func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, state := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v: %s", timeout, state)
		}
		time.Sleep(interval)
	}
}

// logLag bounds how far a function's log line can trail what the API already shows: the line
// reaches the test through the runner's standard output after the function wrote it, so a test
// that has just seen a batch SUCCEEDED may not have the sink's "batch aggregated" line yet.
const logLag = 10 * time.Second

// logged waits at most logLag for a function log line containing every one of parts, and returns
// the lines that do; none when none came.
func logged(parts ...string) []string {
	deadline := time.Now().Add(logLag)
	for {
		lines := st.logs.Matching(parts...)
		if len(lines) > 0 || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logsOnFailure returns a function to defer that writes the function log lines containing every
// one of parts (all lines for none) to the test's output if the test fails between the call and
// the deferred one (t.Fatal runs deferred calls too). On a deployed stack it does nothing.
func logsOnFailure(t *testing.T, parts ...string) func() {
	if st.logs == nil || t.Failed() {
		return func() {}
	}
	return func() {
		if t.Failed() {
			for _, line := range st.logs.Matching(parts...) {
				t.Log(line)
			}
		}
	}
}
