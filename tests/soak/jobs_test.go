package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/tests/internal/stacktest"
)

// jobsPattern submits jobs (one in ten a business failure) and checks that every accepted job
// ended in the final state its outcome calls for, that it ran to a recorded end once, and that
// nothing reached the dead-letter queue.
type jobsPattern struct {
	s     *stack
	c     *client
	url   string
	token string
	table string
	dlq   string

	mu       sync.Mutex
	accepted map[string]string // job id → outcome asked for
}

func (p *jobsPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

func (p *jobsPattern) name() string { return "jobs" }

func (p *jobsPattern) api() string { return "JobsApiUrl" }

func (p *jobsPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c, p.url, p.accepted = s, c, strings.TrimSuffix(s.outputs["JobsApiUrl"], "/"), map[string]string{}
	p.table = s.outputs["JobsTableName"]
	var err error
	if p.dlq, err = s.queueURL(ctx, "JobsDeadLetterQueue"); err != nil {
		return err
	}
	p.token, err = s.token("soak-jobs")
	return err
}

func (p *jobsPattern) drive(ctx context.Context, i int) bool {
	outcome := "succeed"
	if i%10 == 9 {
		outcome = "fail"
	}
	body := fmt.Sprintf(`{"task":"soak","durationMs":20,"outcome":%q}`, outcome)
	a := p.c.do(ctx, "POST /jobs", http.MethodPost, p.url+"/jobs", p.token, body, "Idempotency-Key", fmt.Sprintf("soak-job-%d", i))
	if a.status != http.StatusAccepted {
		return true
	}
	var got struct {
		JobID string `json:"jobId"`
	}
	if json.Unmarshal(a.body, &got) != nil || got.JobID == "" {
		return true
	}
	p.mu.Lock()
	p.accepted[got.JobID] = outcome
	p.mu.Unlock()
	return true
}

func (p *jobsPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	cut := cutRequests(p.s.logs, "ProcessJobFunction")
	for id, outcome := range p.accepted {
		item, err := p.s.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"jobId": &types.AttributeValueMemberS{Value: id}},
		})
		if err != nil {
			return []string{fmt.Sprintf("read job %s: %v", id, err)}
		}
		status := stringAttr(item.Item, "status")
		want := "SUCCEEDED"
		if outcome == "fail" {
			want = "FAILED"
		}
		if status != want {
			out = append(out, fmt.Sprintf("job %s (outcome %s) is %q; want %s", id, outcome, status, want))
		}
		// The work completes, and is recorded, in at most one invocation: a second would be the
		// job running twice (a duplicate delivery, a redelivery after it finished). A run whose
		// invocation was cut short (killed, timed out) or whose final write failed may have done
		// the work without recording it; the next delivery runs it again, as on AWS.
		lines := p.s.logs.Matching("ProcessJobFunction", id)
		unrecorded := map[string]bool{}
		for _, line := range lines {
			if strings.Contains(line, `"message":"record failed"`) {
				unrecorded[requestID(line)] = true
			}
		}
		completed := 0
		for _, line := range lines {
			r := requestID(line)
			if (strings.Contains(line, `"message":"job succeeded"`) || strings.Contains(line, `"message":"job failed"`)) && !cut[r] && !unrecorded[r] {
				completed++
			}
		}
		if completed > 1 {
			out = append(out, fmt.Sprintf("job %s ran to completion %d times", id, completed))
		}
	}
	if n, err := queueDepth(ctx, p.s, p.dlq); err != nil || n > 0 {
		out = append(out, fmt.Sprintf("JobsDeadLetterQueue holds %d messages (%v); the run poisoned none", n, err))
	}
	return out
}

// requestIDField finds a JSON log line's request id, as lambdacontext's handler writes it.
var requestIDField = regexp.MustCompile(`"requestId":"([^"]+)"`)

func requestID(line string) string {
	if m := requestIDField.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

// cutLine is the pool's line for an invocation whose caller gave up: the injector's kills and
// timeouts, which the pool carries out by killing the environment.
var cutLine = regexp.MustCompile(`RequestId: (\S+) Caller gave up`)

// cutRequests returns the request ids of function's invocations that were cut short.
func cutRequests(logs *stacktest.Logs, function string) map[string]bool {
	out := map[string]bool{}
	for _, line := range logs.Matching(function, "Caller gave up") {
		if m := cutLine.FindStringSubmatch(line); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// stringAttr returns a string attribute of an item, "" when absent.
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
