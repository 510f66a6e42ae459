package ops

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the call PollQueues makes.
type SQSAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// PollQueues records the depth of every queue (name → URL) every period until ctx ends, as
// SQS's ApproximateNumberOfMessagesVisible and ApproximateNumberOfMessagesNotVisible metrics
// do. A queue that cannot be read keeps its last depth: the page is for looking, not alerting.
func (c *Collector) PollQueues(ctx context.Context, client SQSAPI, queues map[string]string, period time.Duration) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		for name, url := range queues {
			out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(url),
				AttributeNames: []types.QueueAttributeName{
					types.QueueAttributeNameApproximateNumberOfMessages,
					types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				},
			})
			if err != nil {
				continue
			}
			visible, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
			inFlight, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
			c.QueueDepth(name, visible, inFlight)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
