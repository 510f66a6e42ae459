package lambdainvoke

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/budget"
)

// API is the part of the Lambda client the continuer calls.
type API interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
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
	out, err := c.Lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(c.Function),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return fmt.Errorf("invoke %s asynchronously for import %s at byte %d: %w", c.Function, link.ImportID, link.Offset, err)
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("invoke %s asynchronously for import %s: status %d, want 202", c.Function, link.ImportID, out.StatusCode)
	}
	return nil
}
