package lambdainvoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/awscall"
	"github.com/go-serverless/reference/shared/budget"
)

// Service is Lambda as awscall calls it.
var Service = awscall.Service{ID: "Lambda", SigningName: "lambda", Prefix: "lambda"}

// Invoker queues asynchronous invocations. Build it once per cold start with New.
type Invoker struct {
	call *awscall.Client
}

// New builds an Invoker from the SDK configuration the function's other clients use. It never
// fails: a configuration it cannot name Lambda's endpoint for fails every Invoke instead.
func New(cfg aws.Config) *Invoker {
	return &Invoker{call: awscall.New(cfg, Service)}
}

// InvokeEvent queues payload, a JSON event, for function (a name, a partial or a full ARN, with
// or without a qualifier) with the request lambda.Client makes for an Invoke of InvocationType
// Event, and returns nil once Lambda has accepted it (202). An empty payload is refused: for one,
// lambda.Client sends no body and no Content-Type, which this does not reproduce. Attempts follow
// the SDK's retry policy; ctx bounds them all. Lambda's refusal is an *awscall.Error.
func (i *Invoker) InvokeEvent(ctx context.Context, function string, payload []byte) error {
	if len(payload) == 0 {
		return errors.New("lambda Invoke: an empty payload (the continuer always sends a link)")
	}
	answer, err := i.call.Call(ctx, awscall.Request{
		Operation: "Invoke",
		Method:    http.MethodPost,
		// The function is one path segment: "/" and ":" in it escaped, as lambda.Client does.
		Path: "/2015-03-31/functions/" + httpbinding.EscapePath(function, true) + "/invocations",
		Header: http.Header{
			"Content-Type":          {"application/octet-stream"},
			"X-Amz-Invocation-Type": {"Event"},
		},
		Body: payload,
	})
	if err != nil {
		return err
	}
	if answer.Status != http.StatusAccepted {
		return fmt.Errorf("lambda Invoke: status %d, want 202 (queued)", answer.Status)
	}
	return nil
}

// API is the call the continuer makes; *Invoker is the one the functions use.
type API interface {
	InvokeEvent(ctx context.Context, function string, payload []byte) error
}

// Continuer starts the next invocation of the chain with an asynchronous Invoke
// (InvocationType Event): Lambda queues the link, retries it on failure as the function's
// EventInvokeConfig says, and sends it to the OnFailure destination when every attempt failed.
type Continuer struct {
	Lambda API
	// Function is the name or ARN of ProcessImportFunction.
	Function string
	Calls    budget.Calls
}

// Continue queues link for the next invocation.
func (c Continuer) Continue(ctx context.Context, link imports.Link) error {
	payload, err := json.Marshal(link)
	if err != nil {
		return fmt.Errorf("marshal link: %w", err)
	}
	ctx, cancel := c.Calls.Context(ctx)
	defer cancel()
	if err := c.Lambda.InvokeEvent(ctx, c.Function, payload); err != nil {
		return fmt.Errorf("invoke %s asynchronously for import %s at byte %d: %w", c.Function, link.ImportID, link.Offset, err)
	}
	return nil
}
