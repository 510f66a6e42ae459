// Package sqsattr carries the correlation IDs of a context onto an outgoing
// SQS message as message attributes, where [correlation.Extractor.SQS] reads
// them back in the consumer.
//
// It is a package of its own, apart from correlation, because it needs the
// SQS SDK's types: every function links correlation, and in Go every linked
// package's init runs at cold start. Kept here, the SQS types are linked only
// by the functions that send SQS messages; a function that sends none does
// not link the SQS SDK.
package sqsattr

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/shared/correlation"
)

// Attributes returns the message attributes that carry the IDs in ctx to an
// SQS message, or nil when ctx carries none. Copy them into a map of your own
// before adding attributes.
func Attributes(ctx context.Context) map[string]types.MessageAttributeValue {
	ids, ok := correlation.FromContext(ctx)
	if !ok {
		return nil
	}
	return map[string]types.MessageAttributeValue{
		correlation.AttributeCorrelationID: {DataType: aws.String("String"), StringValue: aws.String(ids.CorrelationID)},
		correlation.AttributeDebugSampled:  {DataType: aws.String("String"), StringValue: aws.String(strconv.FormatBool(ids.DebugSampled))},
	}
}
