package ops

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeSQS answers GetQueueAttributes from a map of URL → attributes, and fails other URLs.
type fakeSQS map[string]map[string]string

func (f fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	attrs, ok := f[aws.ToString(in.QueueUrl)]
	if !ok {
		return nil, errors.New("AWS.SimpleQueueService.NonExistentQueue")
	}
	return &sqs.GetQueueAttributesOutput{Attributes: attrs}, nil
}

func TestPollQueuesRecordsDepth(t *testing.T) {
	c := New(fixedClock())
	client := fakeSQS{"http://sqs/jobs": {"ApproximateNumberOfMessages": "7", "ApproximateNumberOfMessagesNotVisible": "2"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one round, then stop
	c.PollQueues(ctx, client, map[string]string{"jobs": "http://sqs/jobs", "gone": "http://sqs/gone"}, time.Hour)

	qs := c.Snapshot().Queues
	if len(qs) != 1 || qs[0].Name != "jobs" || *qs[0].Visible != 7 || *qs[0].InFlight != 2 {
		t.Errorf("queues = %+v; want jobs with 7 visible and 2 in flight, nothing for a queue that cannot be read", qs)
	}
}
