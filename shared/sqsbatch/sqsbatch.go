// Package sqsbatch processes the records of an SQS event one by one and
// reports the ones that failed, so that SQS redelivers only those.
//
// Without partial batch responses, one failing record fails the whole
// invocation and SQS redelivers every record in the batch, including the
// ones that succeeded. Worse, each redelivery counts towards the queue's
// maxReceiveCount, so healthy records that keep sharing a batch with a
// poison one end up in the dead-letter queue with it. Returning the failed
// message IDs (the event source mapping must list ReportBatchItemFailures in
// FunctionResponseTypes) retries exactly the failures.
//
// The same reasoning applies to time: records not yet started when the
// invocation's budget runs out are reported as failures without running,
// so they come back in a later invocation instead of being cut off half-way
// by the Lambda timeout, which would also fail the whole batch.
//
// Every record Process receives is either handed to the handler or logged,
// one WARN line per record with its message ID and the reason, in the
// record's own correlation chain: a record handed back comes back only after
// the queue's visibility timeout, and without that line nothing would say
// where it spent the time.
package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
)

// ErrRetryLater marks a record a handler hands back on purpose, unstarted (not enough time left
// in the invocation, a duplicate still in progress elsewhere): it is reported for redelivery like
// any failure, but logged at WARN, so ERROR lines and their alarms mean something went wrong.
// Wrap it: fmt.Errorf("item %s does not fit: %w", id, sqsbatch.ErrRetryLater).
var ErrRetryLater = errors.New("handed back for redelivery")

// Handler handles one SQS message. ctx carries the message's correlation IDs.
// Returning an error (or panicking) fails this record alone.
type Handler func(ctx context.Context, msg events.SQSMessage) error

// Process calls fn for each record of event, in order, and returns the
// records to retry:
//
//   - each record runs with its own correlation IDs, read by ex from its
//     message attributes, so its log lines join its own chain;
//   - a record whose fn returns an error or panics is logged once, at
//     ERROR, and reported as failed; the rest of the batch goes on;
//   - before each record, when b has no time left (ctx's deadline minus
//     b.Margin) or ctx has ended, that record and all after it are
//     reported as failed without running. Set b.Margin to at least the
//     longest time one record takes;
//   - on a FIFO queue, the first failure stops the batch and every later
//     record is reported too, because processing them would break the
//     order within their message group;
//   - every record reported without running (the two cases above, and a
//     handler's [ErrRetryLater]) is logged at WARN, "record handed back",
//     with its messageId and the reason.
//
// The response always has a non-nil BatchItemFailures: empty means the
// whole batch succeeded.
func Process(ctx context.Context, log *slog.Logger, ex correlation.Extractor, b budget.Budget, event events.SQSEvent, fn Handler) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, msg := range event.Records {
		if reason := noTimeLeft(ctx, b); reason != "" {
			log.WarnContext(ctx, "no time left in the invocation; returning unstarted records for redelivery",
				"unstarted", len(event.Records)-i, "reason", reason)
			return handBack(ctx, log, ex, resp, event.Records[i:], reason)
		}

		rctx := correlation.NewContext(ctx, ex.SQS(msg))
		log.DebugContext(rctx, "processing record",
			"messageId", msg.MessageId,
			"receiveCount", msg.Attributes["ApproximateReceiveCount"])
		if err := run(rctx, msg, fn); err != nil {
			if errors.Is(err, ErrRetryLater) {
				log.WarnContext(rctx, "record handed back", "messageId", msg.MessageId, "reason", err)
			} else {
				log.ErrorContext(rctx, "record failed", "messageId", msg.MessageId, "error", err)
			}
			resp = withFailures(resp, event.Records[i:i+1])
			if isFIFO(msg) && i+1 < len(event.Records) {
				log.WarnContext(ctx, "FIFO batch stopped at a failure; returning later records to keep order",
					"unstarted", len(event.Records)-i-1)
				return handBack(ctx, log, ex, resp, event.Records[i+1:],
					"a record before it in this FIFO batch failed (message "+msg.MessageId+"); running it would break its message group's order")
			}
		}
	}
	return resp
}

// noTimeLeft says why no further record may start, or "" when one may.
func noTimeLeft(ctx context.Context, b budget.Budget) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("the invocation ended before the record started: %v", context.Cause(ctx))
	}
	if b.Remaining(ctx) <= 0 {
		return fmt.Sprintf("the invocation's time budget ran out before the record started (%s kept in reserve before the deadline)", b.Margin)
	}
	return ""
}

// handBack reports records for redelivery without running them, with one WARN line each, in the
// record's own correlation chain: whoever follows a chain finds where its record went.
func handBack(ctx context.Context, log *slog.Logger, ex correlation.Extractor, resp events.SQSEventResponse, records []events.SQSMessage, reason string) events.SQSEventResponse {
	for _, msg := range records {
		log.WarnContext(correlation.NewContext(ctx, ex.SQS(msg)), "record handed back", "messageId", msg.MessageId, "reason", reason)
	}
	return withFailures(resp, records)
}

// run calls fn and turns a panic into an error, so that one poison
// message fails alone instead of failing, and retrying, its whole batch.
func run(ctx context.Context, msg events.SQSMessage, fn Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, msg)
}

func withFailures(resp events.SQSEventResponse, records []events.SQSMessage) events.SQSEventResponse {
	for _, msg := range records {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
	}
	return resp
}

// isFIFO reports whether msg came from a FIFO queue, whose names (and so
// ARNs) end in .fifo.
func isFIFO(msg events.SQSMessage) bool {
	return strings.HasSuffix(msg.EventSourceARN, ".fifo")
}
