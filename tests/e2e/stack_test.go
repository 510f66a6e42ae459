package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// stack is what the tests need to know about the stack under test, local or deployed.
type stack struct {
	apiURL  string
	outputs map[string]string
	// token returns a valid access token for user, with extra claims.
	token func(t *testing.T, user string, claims map[string]string) string
	// forgedToken and expiredToken return tokens the authorizer must reject (local only).
	forgedToken  func(t *testing.T, user string) string
	expiredToken func(t *testing.T, user string) string
	sqs          *sqs.Client
	dynamodb     *dynamodb.Client
	// logs holds every line the functions wrote (local only; nil for a deployed stack).
	logs *logLines
}

var st *stack

func TestMain(m *testing.M) {
	var code int
	var err error
	if name := os.Getenv("E2E_STACK"); name != "" {
		st, err = deployedStack(context.Background(), name)
		if err == nil {
			code = m.Run()
		}
	} else {
		var stop func()
		st, stop, err = localStack()
		if err == nil {
			code = m.Run()
			stop()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// repoRoot is the repository root, two levels up from tests/e2e.
func repoRoot() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}

// localStack builds and starts the runner on free ports, as `make run` does, and waits for API_URL.
func localStack() (*stack, func(), error) {
	root := repoRoot()
	cache := os.Getenv("E2E_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	work, err := os.MkdirTemp("", "e2e-stack-")
	if err != nil {
		return nil, nil, err
	}
	bin := filepath.Join(work, "bin")
	for _, tool := range []string{"runner", "token"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "./cmd/"+tool)
		build.Dir = filepath.Join(root, "infra", "local")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("build %s: %v\n%s", tool, err, out)
		}
	}

	cmd := exec.Command(filepath.Join(bin, "runner"),
		"-template", filepath.Join(root, "template.yaml"),
		"-cache", cache,
		"-state", filepath.Join(work, "state"),
		"-port", "0",
		"-stack", "e2e",
		// Failed messages come back after 2 s instead of 180 s, so retries and the DLQ are testable.
		"-max-visibility-timeout", "2s",
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	runnerLog, err := os.Create(filepath.Join(work, "runner.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = runnerLog
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if os.Getenv("E2E_KEEP") == "" {
			os.RemoveAll(work)
		}
	}

	logs := &logLines{}
	ready := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1024*1024), 1024*1024)
		for scanner.Scan() {
			line := scanner.Text()
			if url, ok := strings.CutPrefix(line, "API_URL="); ok {
				ready <- url
				continue
			}
			logs.add(line)
		}
	}()
	var apiURL string
	select {
	case apiURL = <-ready:
	case <-time.After(3 * time.Minute):
		stop()
		out, _ := os.ReadFile(runnerLog.Name())
		return nil, nil, fmt.Errorf("local stack did not print API_URL within 3 minutes; runner log:\n%s", out)
	}

	var outputs struct {
		Endpoints       map[string]string `json:"endpoints"`
		Stack           map[string]string `json:"stack"`
		Region          string            `json:"region"`
		AccessKeyID     string            `json:"accessKeyId"`
		SecretAccessKey string            `json:"secretAccessKey"`
		JWTKeyFile      string            `json:"jwtKeyFile"`
	}
	data, err := os.ReadFile(filepath.Join(work, "state", "outputs.json"))
	if err == nil {
		err = json.Unmarshal(data, &outputs)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("read runner outputs: %w", err)
	}
	awsCfg := aws.Config{Region: outputs.Region, Credentials: credentials.NewStaticCredentialsProvider(outputs.AccessKeyID, outputs.SecretAccessKey, "")}
	tokenCmd := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := exec.Command(filepath.Join(bin, "token"), args...).Output()
		if err != nil {
			t.Fatalf("make token %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	return &stack{
		apiURL:  apiURL,
		outputs: outputs.Stack,
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
		logs: logs,
	}, stop, nil
}

// deployedStack reads a deployed stack's outputs; tokens come from its Cognito user pool.
func deployedStack(ctx context.Context, name string) (*stack, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	outputs, err := stackOutputs(ctx, cfg, name)
	if err != nil {
		return nil, err
	}
	users := newCognitoUsers(cfg, outputs["UserPoolId"], outputs["UserPoolClientId"])
	return &stack{
		apiURL:   strings.TrimSuffix(outputs["ApiUrl"], "/"),
		outputs:  outputs,
		token:    users.token,
		sqs:      sqs.NewFromConfig(cfg),
		dynamodb: dynamodb.NewFromConfig(cfg),
	}, nil
}

// requireLocal skips a test that needs what only the local stack offers (function logs, forging tokens).
func requireLocal(t *testing.T) {
	t.Helper()
	if st.logs == nil {
		t.Skip("needs the local stack: it reads function logs or signs tokens with the local key")
	}
}

// logLines collects function log lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// matching returns the lines that contain every one of parts.
func (l *logLines) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// dump writes every collected line to w, for a failing test's output.
func (l *logLines) dump(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b bytes.Buffer
	for _, line := range l.lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}
