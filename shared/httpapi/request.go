package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// DecodeJSON decodes the request body into v, strictly: the Content-Type must
// be application/json (parameters such as charset allowed), and the body must
// be one JSON value of at most maxBytes bytes with no fields v does not
// declare and no values of the wrong type.
//
// Strictness is a safety net: a misspelt optional field ("idempotencyKye")
// would otherwise be dropped in silence, and the client would never learn
// why its request behaved as if the field were absent.
//
// A request at fault is reported as a *Problem: 415 for the content type,
// 413 for the size, 400 for everything else, with InvalidParams naming the
// field when the fault is in one. Any other error (v is not a pointer) is a
// bug in the caller. Check required fields and value ranges after decoding:
// they are domain rules.
func DecodeJSON(req events.APIGatewayV2HTTPRequest, v any, maxBytes int) error {
	mediaType, _, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil || mediaType != "application/json" {
		return NewProblem(http.StatusUnsupportedMediaType, "the request body must be application/json")
	}

	body := []byte(req.Body)
	if req.IsBase64Encoded {
		body, err = base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return NewProblem(http.StatusBadRequest, "the request body is not valid base64")
		}
	}
	if len(body) > maxBytes {
		return NewProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return NewProblem(http.StatusBadRequest, "the request body is empty")
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return NewProblem(http.StatusBadRequest, "the request body has data after the JSON value")
	}
	return nil
}

// decodeProblem explains a json.Decoder error to the client, or returns it
// unchanged when it is the caller's bug.
func decodeProblem(err error) error {
	if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		p := NewProblem(http.StatusBadRequest, "the request body has a value of the wrong type")
		name := typeErr.Field
		if name == "" {
			name = "(body)"
		}
		p.InvalidParams = []InvalidParam{{
			Name:   name,
			Reason: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type), typeErr.Value),
		}}
		return p
	}
	if syntaxErr, ok := errors.AsType[*json.SyntaxError](err); ok {
		return NewProblem(http.StatusBadRequest, fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntaxErr.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return NewProblem(http.StatusBadRequest, "the request body is not valid JSON (it ends too soon)")
	}
	// encoding/json reports unknown fields only in the error text.
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		p := NewProblem(http.StatusBadRequest, "the request body has a field this operation does not accept")
		p.InvalidParams = []InvalidParam{{Name: name, Reason: "unknown field"}}
		return p
	}
	if _, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
		return fmt.Errorf("decode request body: %w", err)
	}
	// Anything else comes from a field's UnmarshalJSON: the input was at fault.
	return NewProblem(http.StatusBadRequest, "the request body has an invalid value")
}

// jsonKind names the JSON a Go type expects, in the client's terms.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a " + t.String()
	}
}

// Subject returns the caller's identity: the sub claim of the JWT that the
// HTTP API's JWT authorizer verified. The function trusts it because API
// Gateway does not invoke the route until the token's signature, issuer,
// audience and expiry have been checked. A request without one (a route
// missing its authorizer) gets a 401 problem rather than running as nobody.
func Subject(req events.APIGatewayV2HTTPRequest) (string, error) {
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		if sub := a.JWT.Claims["sub"]; sub != "" {
			return sub, nil
		}
	}
	return "", NewProblem(http.StatusUnauthorized, "the request carries no authenticated subject")
}

// Header returns the value of the named request header, ignoring case. HTTP
// APIs lower-case header names in payload format 2.0; test events and other
// front ends may not.
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// MaxIdempotencyKeyLength bounds the Idempotency-Key header: long enough for a UUID or an order
// number with a prefix, short enough to keep the keys of idempotency records small.
const MaxIdempotencyKeyLength = 255

// IdempotencyKey returns the request's optional Idempotency-Key header ("" when absent), or a 400
// *Problem naming the header when it is longer than MaxIdempotencyKeyLength or holds anything but
// printable ASCII. Every service that accepts the header checks it here, the same way.
func IdempotencyKey(req events.APIGatewayV2HTTPRequest) (string, error) {
	key := Header(req, "Idempotency-Key")
	reason := ""
	switch {
	case len(key) > MaxIdempotencyKeyLength:
		reason = fmt.Sprintf("must be at most %d characters", MaxIdempotencyKeyLength)
	case strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0:
		reason = "must be printable ASCII without spaces"
	}
	if reason == "" {
		return key, nil
	}
	return "", &Problem{
		Status: http.StatusBadRequest, Title: "Invalid Idempotency-Key",
		Detail:        "Idempotency-Key " + reason,
		InvalidParams: []InvalidParam{{Name: "Idempotency-Key", Reason: reason}},
	}
}
