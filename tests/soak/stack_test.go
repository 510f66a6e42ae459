package soak

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/infra/local/template"
	"github.com/go-serverless/reference/tests/internal/stacktest"
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
	logs      *stacktest.Logs
	runnerLog string
	// visibility is every queue's visibility timeout in this run (visibilityTimeout).
	visibility time.Duration
	stop       func()
}

// startTimeout bounds the local stack's start-up, which builds every function first.
const startTimeout = 4 * time.Minute

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
	runnerPath, tokenPath, err := stacktest.BuildTools(root, filepath.Join(work, "bin"))
	if err != nil {
		return nil, err
	}
	functionLog, err := os.Create(filepath.Join(work, "functions.log"))
	if err != nil {
		return nil, err
	}
	logs := &stacktest.Logs{Copy: functionLog}
	r, err := stacktest.Start("soak", runnerPath, work, logs,
		"-template", filepath.Join(root, "template.yaml"),
		"-cache", cache,
		"-state", filepath.Join(work, "state"),
		"-port", "0",
		"-stack", "soak",
		"-max-visibility-timeout", visibility.String(),
		"-faults", faults,
	)
	if err != nil {
		functionLog.Close()
		return nil, err
	}
	stop := func() {
		r.Stop()
		functionLog.Close()
	}
	select {
	case <-r.Ready:
	case <-r.Exited:
		stop()
		return nil, fmt.Errorf("the runner exited before it was ready (%v); see %s", r.WaitErr(), r.LogPath)
	case <-time.After(startTimeout):
		stop()
		return nil, fmt.Errorf("the runner was not ready within %v; see %s", startTimeout, r.LogPath)
	}

	out, err := stacktest.ReadOutputs(filepath.Join(work, "state"))
	if err != nil {
		stop()
		return nil, err
	}
	outputs, err := stacktest.MergeOutputs(out.Stack, out.Nested)
	if err != nil {
		stop()
		return nil, fmt.Errorf("runner outputs: %w", err)
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
			b, err := exec.Command(tokenPath, "-user", user, "-key", out.JWTKeyFile).Output()
			if err != nil {
				return "", fmt.Errorf("make a token for %s: %w", user, err)
			}
			return strings.TrimSpace(string(b)), nil
		},
		logs:       logs,
		runnerLog:  r.LogPath,
		visibility: visibility,
		stop:       sync.OnceFunc(stop),
	}, nil
}

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
