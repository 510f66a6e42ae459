package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/invalid"
)

var errUnknownKind = errors.New("unknown job kind")

type submitRequest struct {
	Kind string `json:"kind"`
}

// submit is a handler body: decode, call the domain, map the outcome.
func submit(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	var in submitRequest
	if err := httpapi.DecodeJSON(req, &in, 16<<10); err != nil {
		return httpapi.ErrorResponse(ctx, log, err)
	}
	if in.Kind != "resize" {
		err := fmt.Errorf("submit job: %w", errUnknownKind)
		return httpapi.ErrorResponse(ctx, log, err,
			httpapi.ErrorRule{Err: errUnknownKind, Status: http.StatusUnprocessableEntity})
	}
	resp := httpapi.JSON(ctx, log, http.StatusAccepted, map[string]string{"jobId": "j1"})
	return httpapi.WithHeader(resp, "Location", "/jobs/j1")
}

func Example() {
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-1"})
	headers := map[string]string{"content-type": "application/json"}

	resp := submit(ctx, slog.Default(), events.APIGatewayV2HTTPRequest{Headers: headers, Body: `{"kind":"resize"}`})
	fmt.Println(resp.StatusCode, resp.Headers["Location"], resp.Headers["x-correlation-id"], resp.Body)

	resp = submit(ctx, slog.Default(), events.APIGatewayV2HTTPRequest{Headers: headers, Body: `{"kind":"resize","colour":"red"}`})
	fmt.Println(resp.StatusCode, resp.Body)

	resp = submit(ctx, slog.Default(), events.APIGatewayV2HTTPRequest{Headers: headers, Body: `{"kind":"paint"}`})
	fmt.Println(resp.StatusCode, resp.Body)
	// Output:
	// 202 /jobs/j1 c-1 {"jobId":"j1"}
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request body has a field this operation does not accept","invalid-params":[{"name":"colour","reason":"unknown field"}]}
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"unknown job kind"}
}

// A domain rule refuses input with an *invalid.Param (or any error with an InvalidParam method),
// without knowing about HTTP; the edge answers 400 naming the field.
func ExampleErrorResponse_invalidParam() {
	ctx := context.Background()
	err := fmt.Errorf("submit job: %w", &invalid.Param{Name: "durationMs", Reason: "must be between 0 and 20000"})

	resp := httpapi.ErrorResponse(ctx, slog.Default(), err)
	fmt.Println(resp.StatusCode, resp.Body)
	// Output:
	// 400 {"type":"about:blank","title":"Invalid request","status":400,"detail":"durationMs must be between 0 and 20000","invalid-params":[{"name":"durationMs","reason":"must be between 0 and 20000"}]}
}

// A 409 for a request that may succeed later tells the client when to try again.
func ExampleErrorRule_retryAfter() {
	ctx := context.Background()
	errInProgress := errors.New("idempotency key is in progress")

	resp := httpapi.ErrorResponse(ctx, slog.Default(), fmt.Errorf("submit: %w", errInProgress),
		httpapi.ErrorRule{Err: errInProgress, Status: http.StatusConflict, RetryAfter: time.Second})
	fmt.Println(resp.StatusCode, resp.Headers["Retry-After"])
	// Output:
	// 409 1
}
