package template

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SQSEventRefusals returns what Lambda would refuse about the event source mapping of an SQS event
// with these properties, one sentence each, or nothing when it would create it; fifo says whether
// the event's queue is a FIFO queue. A property absent takes Lambda's default. A property that is
// not a number (an intrinsic function not resolved yet) is not checked: the local runner resolves
// the properties first, so it checks them all, while the template rules read them as written.
//
// cfn-lint checks each property's own range after SAM's transform, but not the limits that depend
// on another setting (the batching window a BatchSize above 10 needs, the queue's type): AWS
// refuses those only when CloudFormation creates the mapping, at deploy time.
//
// The limits, from AWS's documentation:
//   - BatchSize 1–10,000 from a standard queue, 1–10 from a FIFO queue, and "Batching window is
//     not supported for FIFO queues":
//     https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
//   - MaximumBatchingWindowInSeconds 0–300, and "when you set BatchSize to a value greater than
//     10, you must set MaximumBatchingWindowInSeconds to at least 1" (under BatchSize):
//     https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
//   - ScalingConfig.MaximumConcurrency 2–1,000:
//     https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html
func SQSEventRefusals(props map[string]Value, fifo bool) []string {
	var out []string
	// A scalar that is no finite number is refused, as CloudFormation refuses it; an intrinsic
	// function is left for the resolved value.
	for _, v := range []struct {
		name  string
		value Value
	}{{"BatchSize", props["BatchSize"]}, {"MaximumBatchingWindowInSeconds", props["MaximumBatchingWindowInSeconds"]}} {
		if _, isMap := v.value.(map[string]Value); v.value != nil && !isMap {
			if _, ok := Number(v.value); !ok {
				out = append(out, fmt.Sprintf("%s %q is not a number", v.name, fmt.Sprint(v.value)))
			}
		}
	}
	batchSize, window := 10.0, 0.0 // Lambda's defaults for SQS
	if n, ok := Number(props["BatchSize"]); ok {
		batchSize = n
	}
	// A window written as an intrinsic is unknown here, not 0: the BatchSize check that depends
	// on it waits for the resolved value.
	windowKnown := true
	if v, set := props["MaximumBatchingWindowInSeconds"]; set {
		window, windowKnown = Number(v)
	}
	queue, maxBatchSize := "a standard", 10_000.0
	if fifo {
		queue, maxBatchSize = "a FIFO", 10
	}
	switch {
	case batchSize < 1 || batchSize > maxBatchSize:
		out = append(out, fmt.Sprintf("BatchSize %v is outside 1–%v, what Lambda takes from %s queue", batchSize, maxBatchSize, queue))
	case batchSize > 10 && windowKnown && window < 1:
		out = append(out, fmt.Sprintf("BatchSize %v is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not %v", batchSize, window))
	}
	switch {
	case window < 0 || window > 300:
		out = append(out, fmt.Sprintf("MaximumBatchingWindowInSeconds %v is outside 0–300", window))
	case fifo && window != 0:
		out = append(out, fmt.Sprintf("MaximumBatchingWindowInSeconds %v is set, and a FIFO queue takes no batching window", window))
	}
	scaling, _ := props["ScalingConfig"].(map[string]Value)
	if n, ok := Number(scaling["MaximumConcurrency"]); ok && (n < 2 || n > 1000) {
		out = append(out, fmt.Sprintf("ScalingConfig.MaximumConcurrency %v is outside 2–1000", n))
	}
	return out
}

// Number reads a template number: an int or a float64, or a string holding one, as
// CloudFormation accepts them. It refuses anything else (an intrinsic not resolved yet, "10x")
// and anything that is not finite ("NaN", "Inf").
func Number(v Value) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		f = n
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(n), 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
