// Package snstopic publishes the ledger's domain events to the events topic: the SNS adapter
// behind the projection's publisher (ledger.Projector.Publisher).
//
// It is a package of its own, apart from ledger, because only ProjectAccountFunction publishes:
// the other functions link ledger without it, and so without the SNS SDK, whose packages' init
// would otherwise run at each of their cold starts.
package snstopic

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation/snsattr"
)

// RetryKMSThrottling is the SNS client option that retries a Publish refused because the topic's
// KMS key is throttled: build the client with sns.NewFromConfig(cfg, snstopic.RetryKMSThrottling).
// The events topic is encrypted (KmsMasterKeyId), and SNS answers such a Publish with code
// KMSThrottling (HTTP 400, its model's KMSThrottlingException), which the SDK's standard retryer
// neither retries nor counts as a throttle: without this option the first attempt fails and the
// whole stream batch is retried. The option counts it as both, so it gets a throttle's back-off
// and retry cost. It replaces the configuration's retryer with the SDK's standard one; the
// configured maximum of attempts still applies.
func RetryKMSThrottling(o *sns.Options) {
	o.Retryer = retry.NewStandard(withKMSThrottling)
}

// withKMSThrottling adds SNS's KMSThrottling to a standard retryer's retryable and throttle codes.
func withKMSThrottling(o *retry.StandardOptions) {
	codes := map[string]struct{}{(&types.KMSThrottlingException{}).ErrorCode(): {}}
	o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: codes})
	o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: codes})
}

// API is the part of the SNS client the publisher calls.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// AttributeEventType is the message attribute naming the event's type, for subscription filters.
const AttributeEventType = "event-type"

// Publisher publishes domain events to a topic, with the correlation IDs of the command that
// caused them as message attributes.
type Publisher struct {
	SNS      API
	TopicARN string
	// Calls bounds each Publish by its Timeout and by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// Publish sends e. Subscribers may receive an event twice (a redelivered stream batch): they
// deduplicate on accountId and version.
func (p Publisher) Publish(ctx context.Context, e ledger.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("marshal event: %w", err)
	}
	attrs := snsattr.Attributes(ctx)
	if attrs == nil {
		attrs = map[string]types.MessageAttributeValue{}
	}
	attrs[AttributeEventType] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(string(e.Type))}
	ctx, cancel := p.Calls.Context(ctx)
	defer cancel()
	_, err = p.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(p.TopicARN), Message: aws.String(string(body)), MessageAttributes: attrs})
	if err != nil {
		return fmt.Errorf("publish %s version %d: %w", e.AccountID, e.Version, err)
	}
	return nil
}
