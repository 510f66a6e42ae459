package e2e

import (
	"context"
	"encoding/json"
	"strconv"
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
// read from the queue itself (the stack outputs its URL as <queue>Url): locally the visibility
// timeout the runner provisioned, which maxVisibilityTimeout lowered no further than the Timeout of
// the functions it feeds (the runner's provision tests hold it to that rule, and it refuses to
// start below it); on a deployed stack the template's.
func queueRedelivery(t *testing.T, queue string) redelivery {
	t.Helper()
	url, ok := st.outputs[queue+"Url"]
	if !ok {
		t.Fatalf("the stack outputs no %sUrl: the tests cannot tell how the queue redelivers", queue)
	}
	return queueAttributes(t, url)
}

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
