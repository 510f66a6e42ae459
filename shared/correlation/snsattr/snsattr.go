// Package snsattr carries the correlation IDs of a context onto an outgoing
// SNS notification as message attributes, where [correlation.Extractor.SNS]
// reads them back in a subscribed function (and [correlation.Extractor.SQS] in
// a queue subscribed with raw message delivery).
//
// It is a package of its own, apart from correlation, because it needs the
// SNS SDK's types: every function links correlation, and in Go every linked
// package's init runs at cold start. Kept here, the SNS types are linked only
// by the functions that publish; a function that publishes nothing does not
// link the SNS SDK.
package snsattr

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/go-serverless/reference/shared/correlation"
)

// Attributes returns the message attributes that carry the IDs in ctx to an
// SNS notification, or nil when ctx carries none. Copy them into a map of your
// own before adding attributes.
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
