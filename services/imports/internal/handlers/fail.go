package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// BrokenChains records imports whose chain broke (imports.ChainGuard).
type BrokenChains interface {
	Broken(ctx context.Context, link imports.Link, cause string) (bool, error)
}

// Fail handles the imports failure queue, the OnFailure destination of StartImportFunction and
// ProcessImportFunction: each message is Lambda's record of an asynchronous invocation that
// failed every attempt.
type Fail struct {
	Imports     BrokenChains
	Correlation correlation.Extractor
	Budget      budget.Budget
	Log         *slog.Logger
}

// destinationRecord is the part of Lambda's destination record this handler reads.
type destinationRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponsePayload struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"responsePayload"`
}

// Handle marks the import of each failed link FAILED; a failed start (an S3 notification) has no
// import to mark and is logged at ERROR for the alarm's investigation.
func (h Fail) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsbatch.Process(ctx, h.Log, h.Correlation, h.Budget, event, func(ctx context.Context, msg events.SQSMessage) error {
		var rec destinationRecord
		if err := json.Unmarshal([]byte(msg.Body), &rec); err != nil {
			return fmt.Errorf("decode destination record %s: %w", msg.MessageId, err)
		}
		cause := fmt.Sprintf("%s after %d attempts", rec.RequestContext.Condition, rec.RequestContext.ApproximateInvokeCount)
		if rec.ResponsePayload.ErrorType != "" {
			cause += fmt.Sprintf(" (%s: %s)", rec.ResponsePayload.ErrorType, rec.ResponsePayload.ErrorMessage)
		}
		var link imports.Link
		if err := json.Unmarshal(rec.RequestPayload, &link); err != nil || link.ImportID == "" {
			h.Log.ErrorContext(ctx, "asynchronous invocation failed for good", "functionArn", rec.RequestContext.FunctionARN,
				"requestId", rec.RequestContext.RequestID, "cause", cause, "payload", string(rec.RequestPayload))
			return nil
		}
		ctx = correlation.NewContext(ctx, h.Correlation.Payload(link.Carrier))
		failed, err := h.Imports.Broken(ctx, link, cause)
		if err != nil {
			return err
		}
		h.Log.WarnContext(ctx, "chain failure reported", "importId", link.ImportID, "depth", link.Depth, "cause", cause, "importFailed", failed)
		return nil
	}), nil
}
