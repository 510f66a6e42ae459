package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Problem is an RFC 9457 problem details object. It is also an error, so
// code at the edge (DecodeJSON, Subject, a handler's own checks) can return
// one and have [ErrorResponse] send it unchanged.
type Problem struct {
	// Type is a URI naming the kind of problem; empty means "about:blank",
	// which says the status code alone describes it.
	Type string `json:"type"`
	// Title is a short summary of the kind of problem; empty means the
	// status text.
	Title string `json:"title"`
	// Status is the HTTP status code; 0 means 500.
	Status int `json:"status"`
	// Detail explains this occurrence, for the caller to read.
	Detail string `json:"detail,omitempty"`
	// Instance is a URI naming this occurrence, if there is one.
	Instance string `json:"instance,omitempty"`
	// InvalidParams names the request fields at fault (the extension
	// member from RFC 9457's own example).
	InvalidParams []InvalidParam `json:"invalid-params,omitempty"`
}

// InvalidParam is one request field at fault and why.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// NewProblem returns a problem with status, its standard title, and detail.
func NewProblem(status int, detail string) *Problem {
	return &Problem{Status: status, Title: http.StatusText(status), Detail: detail}
}

// Error returns the title and detail, for logs and tests.
func (p *Problem) Error() string {
	p2 := p.withDefaults()
	if p2.Detail == "" {
		return fmt.Sprintf("%d %s", p2.Status, p2.Title)
	}
	return fmt.Sprintf("%d %s: %s", p2.Status, p2.Title, p2.Detail)
}

// Response returns p as an application/problem+json response carrying the
// correlation ID from ctx.
func (p Problem) Response(ctx context.Context) events.APIGatewayV2HTTPResponse {
	p = p.withDefaults()
	body, err := json.Marshal(p)
	if err != nil {
		// Problem holds only strings and ints; this cannot happen.
		panic(fmt.Sprintf("encode problem: %v", err))
	}
	return respond(ctx, p.Status, "application/problem+json", body)
}

func (p Problem) withDefaults() Problem {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	return p
}

// InvalidParamError is an error that names the request field at fault and
// why: the behaviour [ErrorResponse] recognises, so that domain packages can
// refuse input in the caller's terms without importing this package.
// shared/invalid's *invalid.Param is one; a domain may define its own.
type InvalidParamError interface {
	error
	InvalidParam() (name, reason string)
}

// ErrorRule maps a domain error to an HTTP status: any error for which
// errors.Is(err, Err) holds is answered with Status and Title (empty means
// the status text).
type ErrorRule struct {
	Err    error
	Status int
	Title  string
	// RetryAfter, when set, is sent as the Retry-After header (in whole
	// seconds, at least 1): for refusals the same request may get past
	// later, such as a 409 while another request with the same
	// Idempotency-Key is still being processed.
	RetryAfter time.Duration
}

// ErrorResponse turns err into a problem response:
//
//   - a *Problem in err's chain is sent as it is;
//   - otherwise the first rule whose Err matches decides the status, and the
//     detail is the rule's error text: the domain error value (such as
//     "insufficient funds"), never err.Error(), whose wrapping may carry
//     internal context ("get item from table jobs-prod: ...");
//   - otherwise an [InvalidParamError] in err's chain is a 400 naming the
//     field, with the detail built from its name and reason alone;
//   - anything else is an internal error: it is logged once at ERROR with
//     ctx (and so with the correlation ID) and answered with a 500 that has
//     no detail.
//
// A refusal that names a field names it in invalid-params whatever its
// status. Refusals are expected and logged only at DEBUG, so that they show
// in sampled chains without filling the logs.
//
// Call it once, in the handler, for any error the domain returns.
func ErrorResponse(ctx context.Context, log *slog.Logger, err error, rules ...ErrorRule) events.APIGatewayV2HTTPResponse {
	if p, ok := errors.AsType[*Problem](err); ok {
		log.DebugContext(ctx, "request refused", "status", p.withDefaults().Status, "error", err)
		return p.Response(ctx)
	}
	invalid, isInvalid := errors.AsType[InvalidParamError](err)
	for _, r := range rules {
		if errors.Is(err, r.Err) {
			log.DebugContext(ctx, "request refused", "status", r.Status, "error", err)
			p := Problem{Status: r.Status, Title: r.Title, Detail: describe(r.Err)}
			if isInvalid {
				p.InvalidParams = invalidParams(invalid)
			}
			resp := p.Response(ctx)
			if r.RetryAfter > 0 {
				resp = WithHeader(resp, "Retry-After", strconv.Itoa(max(1, int(math.Ceil(r.RetryAfter.Seconds())))))
			}
			return resp
		}
	}
	if isInvalid {
		log.DebugContext(ctx, "request refused", "status", http.StatusBadRequest, "error", err)
		return Problem{Status: http.StatusBadRequest, Title: "Invalid request", Detail: describe(invalid), InvalidParams: invalidParams(invalid)}.Response(ctx)
	}
	log.ErrorContext(ctx, "internal error", "error", err)
	return internalError(ctx)
}

// describe is the detail for a domain error: "<name> <reason>" for one that
// names a field, its own text otherwise.
func describe(err error) string {
	if invalid, ok := err.(InvalidParamError); ok {
		name, reason := invalid.InvalidParam()
		return name + " " + reason
	}
	return err.Error()
}

func invalidParams(err InvalidParamError) []InvalidParam {
	name, reason := err.InvalidParam()
	return []InvalidParam{{Name: name, Reason: reason}}
}
