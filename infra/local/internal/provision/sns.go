package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/go-serverless/reference/infra/local/template"
)

// SNS is the part of the SNS API that provisioning calls.
type SNS interface {
	CreateTopic(ctx context.Context, in *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	Subscribe(ctx context.Context, in *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	SetSubscriptionAttributes(ctx context.Context, in *sns.SetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error)
}

// topicProperties are the AWS::SNS::Topic properties a local topic needs.
type topicProperties struct {
	TopicName                 string
	FifoTopic                 flexBool
	ContentBasedDeduplication flexBool
	Subscription              []struct {
		Protocol string
		Endpoint string
	}
}

// subscriptionProperties are the AWS::SNS::Subscription properties a local subscription needs.
type subscriptionProperties struct {
	TopicArn           string
	Protocol           string
	Endpoint           string
	RawMessageDelivery flexBool
	FilterPolicy       jsonDocument
	FilterPolicyScope  string
	RedrivePolicy      jsonDocument
}

// deliveredProtocol is the one protocol the stand-in delivers; the runner delivers the rest
// (a function subscribed to a topic is an event source of the runner's).
const deliveredProtocol = "sqs"

func (p *provisioner) topic(ctx context.Context, r template.Resource) error {
	if p.clients.SNS == nil {
		return errors.New("no SNS client")
	}
	var props topicProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.TopicName
	if name == "" {
		if props.FifoTopic.b {
			name = p.generatedName(r, maxTopicName-len(".fifo")) + ".fifo"
		} else {
			name = p.generatedName(r, maxTopicName)
		}
	}
	attrs := map[string]string{}
	if props.FifoTopic.b {
		attrs["FifoTopic"] = "true"
		if props.ContentBasedDeduplication.set {
			attrs["ContentBasedDeduplication"] = strconv.FormatBool(props.ContentBasedDeduplication.b)
		}
	}
	out, err := p.clients.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	t := Topic{LogicalID: r.LogicalID, Name: name, ARN: aws.ToString(out.TopicArn)}
	p.out.Topics[r.LogicalID] = t
	p.bindings.SetRef(r.LogicalID, t.ARN)
	p.bindings.SetAtt(r.LogicalID, "TopicArn", t.ARN)
	p.bindings.SetAtt(r.LogicalID, "TopicName", t.Name)

	for i, s := range props.Subscription {
		id := fmt.Sprintf("%s.Subscription[%d]", r.LogicalID, i)
		if s.Protocol != deliveredProtocol {
			p.out.Skipped = append(p.out.Skipped, Skipped{LogicalID: id, Type: typeSubscription, Reason: undeliveredReason(s.Protocol)})
			continue
		}
		sub, err := p.subscribe(ctx, subscriptionProperties{TopicArn: t.ARN, Protocol: s.Protocol, Endpoint: s.Endpoint})
		if err != nil {
			return fmt.Errorf("inline subscription %d: %w", i, err)
		}
		sub.LogicalID = id
		p.out.Subscriptions = append(p.out.Subscriptions, sub)
	}
	return nil
}

func undeliveredReason(protocol string) string {
	return fmt.Sprintf("protocol %s: the SNS stand-in delivers only to SQS queues", protocol)
}

func (p *provisioner) subscription(ctx context.Context, r template.Resource) error {
	if p.clients.SNS == nil {
		return errors.New("no SNS client")
	}
	var props subscriptionProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	if props.Protocol != deliveredProtocol {
		p.skip(r, undeliveredReason(props.Protocol))
		return nil
	}
	sub, err := p.subscribe(ctx, props)
	if err != nil {
		return err
	}
	sub.LogicalID = r.LogicalID
	p.out.Subscriptions = append(p.out.Subscriptions, sub)
	p.bindings.SetRef(r.LogicalID, sub.ARN)
	p.bindings.SetAtt(r.LogicalID, "Arn", sub.ARN)
	return nil
}

// subscribe subscribes the endpoint, or updates the attributes of the same endpoint's existing
// subscription (SNS refuses a second Subscribe that differs only in attributes).
func (p *provisioner) subscribe(ctx context.Context, props subscriptionProperties) (Subscription, error) {
	if props.TopicArn == "" || props.Endpoint == "" {
		return Subscription{}, errors.New("subscription needs TopicArn and Endpoint")
	}
	attrs := subscriptionAttributes(props)
	sub := Subscription{TopicARN: props.TopicArn, Protocol: props.Protocol, Endpoint: props.Endpoint}
	out, err := p.clients.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:              aws.String(props.TopicArn),
		Protocol:              aws.String(props.Protocol),
		Endpoint:              aws.String(props.Endpoint),
		Attributes:            attrs,
		ReturnSubscriptionArn: true,
	})
	if err == nil {
		sub.ARN = aws.ToString(out.SubscriptionArn)
		return sub, nil
	}
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "already exists") {
		return Subscription{}, fmt.Errorf("subscribe %s to %s: %w", props.Endpoint, props.TopicArn, err)
	}
	if sub.ARN, err = p.existingSubscription(ctx, props); err != nil {
		return Subscription{}, err
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := p.clients.SNS.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
			SubscriptionArn: aws.String(sub.ARN),
			AttributeName:   aws.String(name),
			AttributeValue:  aws.String(attrs[name]),
		}); err != nil {
			return Subscription{}, fmt.Errorf("update %s of subscription %s: %w", name, sub.ARN, err)
		}
	}
	return sub, nil
}

// existingSubscription finds the ARN of the topic's subscription for the same endpoint.
func (p *provisioner) existingSubscription(ctx context.Context, props subscriptionProperties) (string, error) {
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(props.TopicArn)}
	for {
		out, err := p.clients.SNS.ListSubscriptionsByTopic(ctx, in)
		if err != nil {
			return "", fmt.Errorf("list subscriptions of %s: %w", props.TopicArn, err)
		}
		for _, s := range out.Subscriptions {
			if aws.ToString(s.Protocol) == props.Protocol && aws.ToString(s.Endpoint) == props.Endpoint {
				return aws.ToString(s.SubscriptionArn), nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return "", fmt.Errorf("subscription of %s to %s exists but is not listed", props.Endpoint, props.TopicArn)
		}
		in.NextToken = out.NextToken
	}
}

// subscriptionAttributes maps the subscription's CloudFormation properties onto SNS
// subscription attributes; Json-typed properties become the JSON strings SNS takes.
func subscriptionAttributes(props subscriptionProperties) map[string]string {
	attrs := map[string]string{}
	if props.RawMessageDelivery.set {
		attrs["RawMessageDelivery"] = strconv.FormatBool(props.RawMessageDelivery.b)
	}
	if props.FilterPolicy.set {
		attrs["FilterPolicy"] = props.FilterPolicy.String()
	}
	if props.FilterPolicyScope != "" {
		attrs["FilterPolicyScope"] = props.FilterPolicyScope
	}
	if props.RedrivePolicy.set {
		attrs["RedrivePolicy"] = props.RedrivePolicy.String()
	}
	return attrs
}
