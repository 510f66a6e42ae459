package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/infra/local/template"
)

// SQS is the part of the SQS API that provisioning calls.
type SQS interface {
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
}

// defaultVisibilityTimeout is SQS's VisibilityTimeout for a queue that declares none, in seconds.
const defaultVisibilityTimeout = 30

// queueProperties are the AWS::SQS::Queue properties a local queue needs.
type queueProperties struct {
	QueueName                     string
	FifoQueue                     flexBool
	ContentBasedDeduplication     flexBool
	DeduplicationScope            string
	FifoThroughputLimit           string
	VisibilityTimeout             flexInt
	MessageRetentionPeriod        flexInt
	DelaySeconds                  flexInt
	ReceiveMessageWaitTimeSeconds flexInt
	MaximumMessageSize            flexInt
	RedrivePolicy                 jsonDocument
	RedriveAllowPolicy            jsonDocument
}

func (p *provisioner) queue(ctx context.Context, r template.Resource) error {
	if p.clients.SQS == nil {
		return errors.New("no SQS client")
	}
	var props queueProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.QueueName
	if name == "" {
		if props.FifoQueue.b {
			name = p.generatedName(r, maxQueueName-len(".fifo")) + ".fifo"
		} else {
			name = p.generatedName(r, maxQueueName)
		}
	}
	attrs, err := queueAttributes(props)
	if err != nil {
		return err
	}

	url, err := p.createQueue(ctx, name, attrs)
	if err != nil {
		return err
	}
	got, err := p.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("get arn of queue %s: %w", name, err)
	}
	arn := got.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return fmt.Errorf("queue %s: the stand-in returned no QueueArn", name)
	}

	// The attributes always carry VisibilityTimeout: the queue has this one whatever an earlier run
	// against the same stand-in left.
	visibility, _ := strconv.Atoi(attrs[string(types.QueueAttributeNameVisibilityTimeout)])
	q := Queue{LogicalID: r.LogicalID, Name: name, URL: url, ARN: arn, VisibilityTimeout: time.Duration(visibility) * time.Second}
	p.out.Queues[r.LogicalID] = q
	p.bindings.SetRef(r.LogicalID, q.URL)
	p.bindings.SetAtt(r.LogicalID, "Arn", q.ARN)
	p.bindings.SetAtt(r.LogicalID, "QueueName", q.Name)
	p.bindings.SetAtt(r.LogicalID, "QueueUrl", q.URL)
	return nil
}

// createQueue creates the queue, or updates the attributes of one that already exists
// with other attributes (a template changed between two runs against the same stand-in).
func (p *provisioner) createQueue(ctx context.Context, name string, attrs map[string]string) (string, error) {
	out, err := p.clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err == nil {
		return aws.ToString(out.QueueUrl), nil
	}
	if !queueExists(err) {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	existing, err := p.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("get url of existing queue %s: %w", name, err)
	}
	settable := make(map[string]string, len(attrs))
	for k, v := range attrs {
		// FifoQueue is fixed at creation; SetQueueAttributes rejects it.
		if k != string(types.QueueAttributeNameFifoQueue) {
			settable[k] = v
		}
	}
	if _, err := p.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   existing.QueueUrl,
		Attributes: settable,
	}); err != nil {
		return "", fmt.Errorf("update attributes of existing queue %s: %w", name, err)
	}
	return aws.ToString(existing.QueueUrl), nil
}

// queueExists reports whether err says a queue of that name exists with other attributes.
func queueExists(err error) bool {
	var exists *types.QueueNameExists
	if errors.As(err, &exists) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "QueueAlreadyExists" || api.ErrorCode() == "QueueNameExists")
}

// queueAttributes maps the queue's CloudFormation properties onto SQS attribute names and
// values. VisibilityTimeout is always set, to SQS's default when the template sets none: the
// runner checks each SQS event against it (Queue.VisibilityTimeout).
func queueAttributes(props queueProperties) (map[string]string, error) {
	attrs := map[string]string{}
	setInt := func(name types.QueueAttributeName, v flexInt) {
		if v.set {
			attrs[string(name)] = strconv.FormatInt(v.n, 10)
		}
	}
	visibility := props.VisibilityTimeout
	if !visibility.set {
		visibility = flexInt{set: true, n: defaultVisibilityTimeout}
	}
	setInt(types.QueueAttributeNameVisibilityTimeout, visibility)
	setInt(types.QueueAttributeNameMessageRetentionPeriod, props.MessageRetentionPeriod)
	setInt(types.QueueAttributeNameDelaySeconds, props.DelaySeconds)
	setInt(types.QueueAttributeNameReceiveMessageWaitTimeSeconds, props.ReceiveMessageWaitTimeSeconds)
	setInt(types.QueueAttributeNameMaximumMessageSize, props.MaximumMessageSize)

	// A standard queue must not carry FifoQueue at all, not even "false".
	if props.FifoQueue.b {
		attrs[string(types.QueueAttributeNameFifoQueue)] = "true"
		if props.ContentBasedDeduplication.set {
			attrs[string(types.QueueAttributeNameContentBasedDeduplication)] = strconv.FormatBool(props.ContentBasedDeduplication.b)
		}
		if props.DeduplicationScope != "" {
			attrs[string(types.QueueAttributeNameDeduplicationScope)] = props.DeduplicationScope
		}
		if props.FifoThroughputLimit != "" {
			attrs[string(types.QueueAttributeNameFifoThroughputLimit)] = props.FifoThroughputLimit
		}
	}

	if props.RedrivePolicy.set {
		policy, err := redrivePolicy(props.RedrivePolicy.doc)
		if err != nil {
			return nil, err
		}
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = policy
	}
	if props.RedriveAllowPolicy.set {
		attrs[string(types.QueueAttributeNameRedriveAllowPolicy)] = props.RedriveAllowPolicy.String()
	}
	return attrs, nil
}

// redrivePolicy serialises a RedrivePolicy to the JSON string SQS takes, checking the two
// fields that make it work: where failed messages go, and after how many receives.
func redrivePolicy(doc map[string]any) (string, error) {
	arn, _ := doc["deadLetterTargetArn"].(string)
	if arn == "" {
		return "", errors.New("RedrivePolicy has no deadLetterTargetArn")
	}
	var count int64
	switch c := doc["maxReceiveCount"].(type) {
	case float64:
		count = int64(c)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
		if err != nil {
			return "", fmt.Errorf("RedrivePolicy maxReceiveCount %q is not an integer", c)
		}
		count = n
	default:
		return "", errors.New("RedrivePolicy has no maxReceiveCount")
	}
	if count < 1 {
		return "", fmt.Errorf("RedrivePolicy maxReceiveCount %d is below 1", count)
	}
	policy, err := compactJSON(struct {
		DeadLetterTargetARN string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int64  `json:"maxReceiveCount"`
	}{arn, count})
	if err != nil {
		return "", fmt.Errorf("encode RedrivePolicy: %w", err)
	}
	return policy, nil
}

// lowerVisibilityTimeouts applies Options.MaxVisibilityTimeout to every queue. It runs once
// everything is provisioned: a queue's consumers are the functions whose SQS events' Queue
// resolves to its ARN, and that resolution needs the queue and whatever else the expression names.
func (p *provisioner) lowerVisibilityTimeouts(ctx context.Context) error {
	if p.opts.MaxVisibilityTimeout == 0 || len(p.out.Queues) == 0 {
		return nil
	}
	consumers, err := p.consumerTimeouts()
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(p.out.Queues)) {
		q := p.out.Queues[id]
		lowered := loweredVisibilityTimeout(q.VisibilityTimeout, p.opts.MaxVisibilityTimeout, consumers[id])
		if lowered == q.VisibilityTimeout {
			continue
		}
		if _, err := p.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(q.URL),
			Attributes: map[string]string{string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(lowered / time.Second))},
		}); err != nil {
			return fmt.Errorf("lower the visibility timeout of queue %s to %v: %w", id, lowered, err)
		}
		q.VisibilityTimeout = lowered
		p.out.Queues[id] = q
	}
	return nil
}

// loweredVisibilityTimeout is the visibility timeout of a queue declared with declared, lowered
// toward limit but not below consumerTimeout, the longest Timeout of the functions it feeds (0 for
// none); limit and consumerTimeout round up to whole seconds, as SQS counts. It is never above
// declared: a template whose queue is already too short for its consumer keeps it, for the runner
// to refuse as AWS does.
func loweredVisibilityTimeout(declared, limit, consumerTimeout time.Duration) time.Duration {
	return min(declared, max(wholeSeconds(limit), wholeSeconds(consumerTimeout)))
}

// wholeSeconds rounds d up to whole seconds.
func wholeSeconds(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

// consumerTimeouts returns, by queue logical ID, the longest Timeout of the functions whose SQS
// events read the queue, disabled events included: AWS checks a mapping when it creates it, enabled
// or not. The events are read as the runner reads them to map them (runner.wiring.sqsMappings); one
// whose Queue does not resolve, or names no queue of the template, is left to the runner to refuse.
func (p *provisioner) consumerTimeouts() (map[string]time.Duration, error) {
	functions, err := p.t.Functions()
	if err != nil {
		return nil, err
	}
	out := map[string]time.Duration{}
	for _, fn := range functions {
		for _, ev := range fn.Events {
			if ev.Type != "SQS" {
				continue
			}
			arn, err := p.bindings.Resolve(ev.Properties["Queue"])
			if err != nil {
				continue
			}
			if q, ok := p.out.QueueByARN(fmt.Sprint(arn)); ok {
				out[q.LogicalID] = max(out[q.LogicalID], fn.Timeout)
			}
		}
	}
	return out, nil
}
