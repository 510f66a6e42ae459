package e2e

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/infra/local/template"
)

// maxVisibilityTimeout is the local runner's -max-visibility-timeout: each queue's visibility
// timeout goes down toward it, but never below the longest Timeout of the functions its SQS events
// feed, which is the least AWS accepts. A failed message comes back after one Timeout of its
// consumer instead of the 6 × Timeout the template declares, so retries and dead-letter queues are
// testable in a run; a queue no function reads through an SQS event goes down to it.
const maxVisibilityTimeout = 2 * time.Second

// sqsDefaultVisibilityTimeout is SQS's VisibilityTimeout for a queue that declares none.
const sqsDefaultVisibilityTimeout = 30 * time.Second

// redelivery is how a queue of the stack under test gives a failed message another chance.
type redelivery struct {
	// visibility is how long a received message stays hidden before it can be received again.
	visibility time.Duration
	// receives is the RedrivePolicy's maxReceiveCount: the receives after which the next one moves
	// the message to the dead-letter queue instead; 0 for a queue without one.
	receives int
}

// deadLettered is how long after its first receive a message that fails every receive leaves for
// the dead-letter queue: its last receive's visibility timeout ends then, and the consumer's next
// poll moves it. Until then every attempt of it is made too.
func (r redelivery) deadLettered() time.Duration {
	return time.Duration(r.receives) * r.visibility
}

// queueRedelivery returns how the queue with logical ID queue redelivers in the stack under test,
// from the template as written: its VisibilityTimeout (SQS's default when it declares none) and its
// RedrivePolicy's maxReceiveCount. Locally the visibility timeout is what the runner provisions
// with maxVisibilityTimeout, by the same rule (provision.Options.MaxVisibilityTimeout). When the
// stack outputs the queue's URL (<queue>Url), the queue itself is asked too, so that a rule that
// drifted from the runner's fails here, by name, instead of as a wait that gives up.
func queueRedelivery(t *testing.T, queue string) redelivery {
	t.Helper()
	tmpl, err := appTemplate()
	if err != nil {
		t.Fatalf("read the template: %v", err)
	}
	r, ok := tmpl.Resources[queue]
	if !ok || r.Type != "AWS::SQS::Queue" {
		t.Fatalf("the template declares no queue %s", queue)
	}
	static := template.NewBindings(tmpl, "", "")
	number := func(what string, v template.Value) int {
		t.Helper()
		resolved, err := static.Resolve(v)
		n, ok := template.Number(resolved)
		if err != nil || !ok {
			t.Fatalf("%s %s: %v is not a number the template resolves alone (%v)", queue, what, v, err)
		}
		return int(n)
	}

	out := redelivery{visibility: sqsDefaultVisibilityTimeout}
	if v, ok := r.Properties["VisibilityTimeout"]; ok {
		out.visibility = time.Duration(number("VisibilityTimeout", v)) * time.Second
	}
	if policy, ok := r.Properties["RedrivePolicy"].(map[string]template.Value); ok {
		out.receives = number("RedrivePolicy.maxReceiveCount", policy["maxReceiveCount"])
	}
	if st.maxVisibility > 0 {
		var consumers time.Duration
		functions, err := tmpl.Functions()
		if err != nil {
			t.Fatalf("read the template's functions: %v", err)
		}
		for _, fn := range functions {
			for _, ev := range fn.Events {
				if ev.Type == "SQS" && slices.Contains(template.References(ev.Properties["Queue"]), queue) {
					consumers = max(consumers, fn.Timeout)
				}
			}
		}
		limit := time.Duration(math.Ceil(st.maxVisibility.Seconds())) * time.Second
		out.visibility = min(out.visibility, max(limit, consumers))
	}

	if url, ok := st.outputs[queue+"Url"]; ok {
		if got := queueAttributes(t, url); got != out {
			t.Fatalf("queue %s redelivers after %v, up to %d receives; the tests expect %v and %d from the template",
				queue, got.visibility, got.receives, out.visibility, out.receives)
		}
	}
	return out
}

// appTemplate is the application's template with its nested applications, read once.
var appTemplate = sync.OnceValues(func() (*template.Template, error) {
	return template.LoadApp(filepath.Join(repoRoot(), "template.yaml"))
})

// queueAttributes returns the redelivery the queue at url has in the stack.
func queueAttributes(t *testing.T, url string) redelivery {
	t.Helper()
	out, err := st.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		t.Fatalf("get the attributes of queue %s: %v", url, err)
	}
	seconds, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil {
		t.Fatalf("queue %s: VisibilityTimeout %q", url, out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	}
	r := redelivery{visibility: time.Duration(seconds) * time.Second}
	if policy := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]; policy != "" {
		var p struct {
			MaxReceiveCount any `json:"maxReceiveCount"` // a number, or a string holding one
		}
		err := json.Unmarshal([]byte(policy), &p)
		n, ok := template.Number(p.MaxReceiveCount)
		if err != nil || !ok {
			t.Fatalf("queue %s: RedrivePolicy %s has no maxReceiveCount (%v)", url, policy, err)
		}
		r.receives = int(n)
	}
	return r
}
