package soak

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/infra/local/template"
)

// stack is the local stack the soak drives: its outputs, clients of the stand-ins themselves
// (the runner's trusted keys: they bypass the gateways, so the checks never meet a fault), and
// every line the functions wrote.
type stack struct {
	outputs       map[string]string
	functionNames map[string]string
	dynamodb      *dynamodb.Client
	sqs           *sqs.Client
	s3            *s3.Client
	// token returns an access token for user from the local issuer.
	token     func(user string) (string, error)
	logs      *logLines
	runnerLog string
	// visibility is every queue's visibility timeout in this run (visibilityTimeout).
	visibility time.Duration
	stop       func()
}

// Waits of the local stack: start-up builds every function first.
const (
	startTimeout = 4 * time.Minute
	stopGrace    = 20 * time.Second
)

// startStack builds the runner and starts it on free ports with the fault file faults, as
// `make run FAULTS=...` does, with visibility timeouts cut to visibilityTimeout so that
// redeliveries happen within the run. work is where its state and logs go (the functions' lines
// in functions.log).
func startStack(work, faults string) (*stack, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	visibility, err := visibilityTimeout(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	cache := cmp.Or(os.Getenv("SOAK_CACHE"), filepath.Join(root, ".cache"))
	bin := filepath.Join(work, "bin")
	for _, tool := range []string{"runner", "token"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "./cmd/"+tool)
		build.Dir = filepath.Join(root, "infra", "local")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", tool, err, out)
		}
	}
	logPath := filepath.Join(work, "runner.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer stdoutW.Close()
	cmd := exec.Command(filepath.Join(bin, "runner"),
		"-template", filepath.Join(root, "template.yaml"),
		"-cache", cache,
		"-state", filepath.Join(work, "state"),
		"-port", "0",
		"-stack", "soak",
		"-max-visibility-timeout", visibility.String(),
		"-faults", faults,
	)
	cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = stdoutW, logFile, runnerSysProcAttr()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		return nil, fmt.Errorf("start the runner: %w", err)
	}
	functionLog, err := os.Create(filepath.Join(work, "functions.log"))
	if err != nil {
		stdout.Close()
		return nil, err
	}
	logs := &logLines{file: functionLog}
	ready := make(chan struct{}, 1)
	go func() {
		defer stdout.Close()
		lines := bufio.NewReader(stdout)
		for {
			line, err := lines.ReadString('\n')
			if line = strings.TrimSuffix(line, "\n"); line != "" {
				if strings.HasPrefix(line, "API_URL=") {
					ready <- struct{}{}
				} else {
					logs.add(line)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	pgid := cmd.Process.Pid
	stop := sync.OnceFunc(func() {
		signalGroup(pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopGrace):
		}
		signalGroup(pgid, syscall.SIGKILL)
		<-exited
	})
	select {
	case <-ready:
	case <-exited:
		return nil, fmt.Errorf("the runner exited before it was ready (%v); see %s", waitErr, logPath)
	case <-time.After(startTimeout):
		stop()
		return nil, fmt.Errorf("the runner was not ready within %v; see %s", startTimeout, logPath)
	}

	var out struct {
		Endpoints       map[string]string            `json:"endpoints"`
		Stack           map[string]string            `json:"stack"`
		Nested          map[string]map[string]string `json:"nested"`
		FunctionNames   map[string]string            `json:"functionNames"`
		Region          string                       `json:"region"`
		AccessKeyID     string                       `json:"accessKeyId"`
		SecretAccessKey string                       `json:"secretAccessKey"`
		JWTKeyFile      string                       `json:"jwtKeyFile"`
	}
	data, err := os.ReadFile(filepath.Join(work, "state", "outputs.json"))
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("read runner outputs: %w", err)
	}
	outputs := map[string]string{}
	for k, v := range out.Stack {
		outputs[k] = v
	}
	for _, nested := range out.Nested {
		for k, v := range nested {
			if k == "ApiUrl" || k == "AlarmTopicArn" {
				continue // each service's API URL is the root's <Svc>ApiUrl
			}
			outputs[k] = v
		}
	}
	cfg := aws.Config{Region: out.Region, Credentials: credentials.NewStaticCredentialsProvider(out.AccessKeyID, out.SecretAccessKey, "")}
	return &stack{
		outputs:       outputs,
		functionNames: out.FunctionNames,
		dynamodb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(out.Endpoints["dynamodb"])
			o.DisableValidateResponseChecksum = true
		}),
		sqs: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(out.Endpoints["sqs"]) }),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(out.Endpoints["s3"]) }),
		token: func(user string) (string, error) {
			b, err := exec.Command(filepath.Join(bin, "token"), "-user", user, "-key", out.JWTKeyFile).Output()
			if err != nil {
				return "", fmt.Errorf("make a token for %s: %w", user, err)
			}
			return strings.TrimSpace(string(b)), nil
		},
		logs:       logs,
		runnerLog:  logPath,
		visibility: visibility,
		stop:       stop,
	}, nil
}

// signalGroup sends sig to the process group pgid leads; a group already gone is fine.
func signalGroup(pgid int, sig syscall.Signal) {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "soak: send %v to the runner's process group %d: %v\n", sig, pgid, err)
	}
}

// tableName finds the local name of the table the template names logicalID (names end in it).
func (s *stack) tableName(ctx context.Context, logicalID string) (string, error) {
	var start *string
	for {
		out, err := s.dynamodb.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: start})
		if err != nil {
			return "", fmt.Errorf("list tables: %w", err)
		}
		for _, name := range out.TableNames {
			if strings.HasSuffix(name, "-"+logicalID) {
				return name, nil
			}
		}
		if out.LastEvaluatedTableName == nil {
			return "", fmt.Errorf("no table named for %s", logicalID)
		}
		start = out.LastEvaluatedTableName
	}
}

// queueURL finds the URL of the queue the template names logicalID.
func (s *stack) queueURL(ctx context.Context, logicalID string) (string, error) {
	out, err := s.sqs.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		return "", fmt.Errorf("list queues: %w", err)
	}
	for _, u := range out.QueueUrls {
		if strings.HasSuffix(u, "-"+logicalID) {
			return u, nil
		}
	}
	return "", fmt.Errorf("no queue named for %s", logicalID)
}

// visibilityTimeout is the visibility timeout of every queue in the soak: the longest Timeout of
// a function fed by SQS, plus 5 s. On AWS each queue's is 6 × its consumer's Timeout, so a message
// comes back only after whatever its last delivery claimed (the jobs worker claims a job for the
// rest of its invocation) has lapsed; the shortest value that keeps that property keeps the run
// short. The runner never lowers a queue below the Timeout of the functions it feeds (what AWS
// accepts), but a message's hiding starts when it is received, and its claim runs to the deadline
// of an invocation that starts later (the batching window, a throttled invoke's back-off, a cold
// start): hidden for exactly the Timeout, it comes back before the claim lapses. The 5 s cover that
// gap while it stays under 5 s; the end-to-end tests' value (the Timeout itself) does not.
func visibilityTimeout(templatePath string) (time.Duration, error) {
	tmpl, err := template.LoadApp(templatePath)
	if err != nil {
		return 0, err
	}
	functions, err := tmpl.Functions()
	if err != nil {
		return 0, err
	}
	var longest time.Duration
	for _, fn := range functions {
		for _, ev := range fn.Events {
			if ev.Type == "SQS" {
				longest = max(longest, fn.Timeout)
			}
		}
	}
	if longest == 0 {
		// No function is fed by SQS (a fork of ledger or uploads): no queue's timeout matters,
		// and 0 leaves every queue as the template sets it.
		return 0, nil
	}
	return longest + 5*time.Second, nil
}

// logLines keeps every line the functions wrote, and copies them to file.
type logLines struct {
	file  *os.File
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	_, _ = l.file.WriteString(line + "\n")
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
