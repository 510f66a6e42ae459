package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/shared/correlation"
)

// JSON returns a response with status and v encoded as JSON. The response
// carries the correlation ID from ctx in the x-correlation-id header.
//
// A value that cannot be encoded (a NaN, a channel) is a bug in the handler:
// it is logged once at ERROR with ctx, as [ErrorResponse] logs an internal
// error, and the caller gets a 500 problem rather than a half-written body.
func JSON(ctx context.Context, log *slog.Logger, status int, v any) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		log.ErrorContext(ctx, "internal error", "error", fmt.Errorf("encode %d response: %w", status, err))
		return internalError(ctx)
	}
	return respond(ctx, status, "application/json", body)
}

// WithHeader returns resp with header name set to value, for headers such
// as Location on a 202 Accepted or Retry-After on a 409 or 429.
func WithHeader(resp events.APIGatewayV2HTTPResponse, name, value string) events.APIGatewayV2HTTPResponse {
	headers := make(map[string]string, len(resp.Headers)+1)
	for k, v := range resp.Headers {
		headers[k] = v
	}
	headers[name] = value
	resp.Headers = headers
	return resp
}

// respond is the one place responses are built, so that every one of them
// carries the correlation ID.
func respond(ctx context.Context, status int, contentType string, body []byte) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{"Content-Type": contentType}
	if ids, ok := correlation.FromContext(ctx); ok {
		headers[correlation.Header] = ids.CorrelationID
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)}
}

// internalError is the response to anything the caller must not see.
func internalError(ctx context.Context) events.APIGatewayV2HTTPResponse {
	return Problem{Status: http.StatusInternalServerError}.Response(ctx)
}
