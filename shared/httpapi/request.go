package httpapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DecodeJSON decodes the request body into v, strictly: the Content-Type must
// be application/json (parameters such as charset allowed), and the body must
// be one JSON object of at most maxBytes bytes, matching v exactly:
//
//   - member names match field names exactly, case included: {"Amount":1}
//     does not set a field tagged "amount", it is an unknown member;
//   - a member named twice is refused, rather than the last one winning;
//   - a member v does not declare is refused;
//   - a number must fit the field's Go type: 1.5 or 1e3 for an int, or
//     9223372036854775808 for an int64, is refused, never truncated or wrapped;
//   - strings must be valid UTF-8;
//   - nothing may follow the object, and the body may not be null, an array
//     or any other value where an object is expected.
//
// These are the semantics of JSON v2 (github.com/go-json-experiment/json, the
// Go team's successor of encoding/json, which Go 1.26 ships only behind
// GOEXPERIMENT=jsonv2), used here with unknown members rejected: so the rules
// are a published standard's, not hand-written checks. Responses are still
// encoded with encoding/json ([JSON]), whose output clients already parse.
//
// Strictness is a safety net: a misspelt optional field ("idempotencyKye")
// would otherwise be dropped in silence, and the client would never learn
// why its request behaved as if the field were absent; and two parsers that
// read {"amount":1,"Amount":1000} differently (a gateway, a log, this code)
// would disagree about what was asked.
//
// A request at fault is reported as a *Problem: 415 for the content type,
// 413 for the size, 400 for everything else, with InvalidParams naming the
// field when the fault is in one ("options.retries", "items[3].durationMs";
// an unknown member by its own name). Any other error (v is not a non-nil
// pointer) is a bug in the caller. Check required fields and value ranges
// after decoding: they are domain rules.
func DecodeJSON(req events.APIGatewayV2HTTPRequest, v any, maxBytes int) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode request body into %T: want a non-nil pointer", v)
	}
	mediaType, params, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil || mediaType != "application/json" {
		return NewProblem(http.StatusUnsupportedMediaType, "the request body must be application/json")
	}
	// JSON exchanged between systems is UTF-8 (RFC 8259 §8.1); a body declared otherwise would
	// be decoded as something it is not.
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return NewProblem(http.StatusUnsupportedMediaType, "the request body must be UTF-8 (charset="+charset+" is not accepted)")
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

	dec := jsontext.NewDecoder(bytes.NewReader(body))
	// An invalid first token peeks as 0; the decode below reports it.
	if kind := dec.PeekKind(); kind != '{' && kind != 0 {
		return NewProblem(http.StatusBadRequest, fmt.Sprintf("the request body must be a JSON object, not %s", kindName(kind)))
	}
	if err := json.UnmarshalDecode(dec, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return NewProblem(http.StatusBadRequest, "the request body has data after the JSON object")
	}
	return nil
}

// decodeProblem explains a JSON v2 decoding error to the client. The
// explanation is built from the error's fields (where, what kind of JSON,
// what Go type), never from its text.
func decodeProblem(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return NewProblem(http.StatusBadRequest, "the request body is not valid JSON (it ends too soon)")
	}
	if syntaxErr, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		if errors.Is(syntaxErr.Err, jsontext.ErrDuplicateName) {
			return invalidBody("the request body names a field twice", fieldPath(syntaxErr.JSONPointer), "appears more than once")
		}
		return NewProblem(http.StatusBadRequest, fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntaxErr.ByteOffset))
	}
	semErr, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		return NewProblem(http.StatusBadRequest, "the request body is not valid JSON")
	}
	switch {
	case errors.Is(semErr.Err, json.ErrUnknownName):
		// Named by itself, as a client searching its own code for the misspelling needs it.
		return invalidBody("the request body has a field this operation does not accept", semErr.JSONPointer.LastToken(), "unknown field")
	case semErr.Err == nil && semErr.GoType != nil && semErr.JSONKind != 0:
		reason := fmt.Sprintf("must be %s, not %s", jsonKind(semErr.GoType), kindName(semErr.JSONKind))
		return invalidBody("the request body has a value of the wrong type", fieldPath(semErr.JSONPointer), reason)
	case semErr.JSONKind == '0' && semErr.GoType != nil && isInteger(semErr.GoType) && errors.Is(semErr.Err, strconv.ErrRange):
		reason := fmt.Sprintf("must be an integer from %d to %d", minInt(semErr.GoType), maxInt(semErr.GoType))
		if isUnsigned(semErr.GoType) {
			reason = fmt.Sprintf("must be an integer from 0 to %d", uint64(math.MaxUint64)>>(64-semErr.GoType.Bits()))
		}
		return invalidBody("the request body has a number out of range", fieldPath(semErr.JSONPointer), reason)
	case semErr.JSONKind == '0' && semErr.GoType != nil && isInteger(semErr.GoType):
		// A fraction or an exponent: 1.5, 1e3.
		return invalidBody("the request body has a value of the wrong type", fieldPath(semErr.JSONPointer), "must be an integer, without a fraction or an exponent")
	default:
		// A field's own UnmarshalJSON (a time.Time that is not RFC 3339) or an
		// out-of-range float; its text may say more than the client needs.
		return invalidBody("the request body has an invalid value", fieldPath(semErr.JSONPointer), "is not a valid value")
	}
}

// invalidBody is a 400 naming one field of the body.
func invalidBody(detail, name, reason string) *Problem {
	p := NewProblem(http.StatusBadRequest, detail)
	if name == "" {
		name = "(body)"
	}
	p.InvalidParams = []InvalidParam{{Name: name, Reason: reason}}
	return p
}

// fieldPath names the value a JSON Pointer points at as a client writes it in
// code: /items/3/durationMs is items[3].durationMs. A token of digits is an
// array index; no request type has a member named with digits only.
func fieldPath(ptr jsontext.Pointer) string {
	var b strings.Builder
	for token := range ptr.Tokens() {
		if _, err := strconv.ParseUint(token, 10, 64); err == nil {
			b.WriteString("[" + token + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(token)
	}
	return b.String()
}

// kindName names a JSON kind in the client's terms.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	default:
		return "a value"
	}
}

// jsonKind names the JSON a Go type expects, in the client's terms.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case isInteger(t):
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	default:
		return "a " + t.String()
	}
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return isUnsigned(t)
}

func isUnsigned(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

func minInt(t reflect.Type) int64 { return math.MinInt64 >> (64 - t.Bits()) }
func maxInt(t reflect.Type) int64 { return math.MaxInt64 >> (64 - t.Bits()) }

// MaxSubjectLength bounds the subject a caller may have (the JWT's sub):
// longer than any issuer's identifiers (a Cognito sub is a 36-character
// UUID), short enough that a subject and an Idempotency-Key together stay far
// below DynamoDB's 2048-byte limit on a partition key.
const MaxSubjectLength = 128

// Subject returns the caller's identity: the sub claim of the JWT that the
// HTTP API's JWT authorizer verified. The function trusts it because API
// Gateway does not invoke the route until the token's signature, issuer,
// audience and expiry have been checked.
//
// A request without one (a route missing its authorizer) gets a 401
// problem rather than running as nobody. A subject that is not 1 to
// [MaxSubjectLength] characters of A-Z a-z 0-9 . _ -, or that starts with a
// dot, gets a 403 problem: the token is genuine, so authenticating again
// cannot help, but this API cannot use that identity. Services put the
// subject inside keys ("imports/{sub}/orders.csv", "submit/{sub}/{key}",
// "uploads/{sub}/{id}/..."), where a "/" would make two callers' keys
// collide ("a/b" + "k1" and "a" + "b/k1"), a leading dot would make a path
// segment of "." or "..", and any character outside the set would be
// rewritten or escaped on its way into an object key. Cognito's subs are
// UUIDs, and those of most issuers (Google, Okta, Entra ID, Firebase) fit
// too; one that uses other characters (Auth0's "auth0|...") needs every key
// that embeds the subject checked before the set is widened.
func Subject(req events.APIGatewayV2HTTPRequest) (string, error) {
	var sub string
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		sub = a.JWT.Claims["sub"]
	}
	switch {
	case sub == "":
		return "", NewProblem(http.StatusUnauthorized, "the request carries no authenticated subject")
	case !validSubject(sub):
		// The subject is not echoed: it may be long, and it is not the caller's to fix.
		return "", NewProblem(http.StatusForbidden, fmt.Sprintf("the token's subject must be 1 to %d characters of A-Z a-z 0-9 . _ - not starting with a dot", MaxSubjectLength))
	}
	return sub, nil
}

func validSubject(sub string) bool {
	if len(sub) > MaxSubjectLength || strings.HasPrefix(sub, ".") {
		return false
	}
	for _, c := range []byte(sub) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// PathID returns the path parameter name when valid accepts it, and notFound
// otherwise. An id no record can have (too long, or with characters its
// format never has) is answered exactly as an unknown one, through the same
// ErrorRule, without asking a store: DynamoDB refuses a key over 2048 bytes
// with a ValidationException, which would otherwise be a 500. Each service
// checks its ids here, with the one function that describes their format.
func PathID(req events.APIGatewayV2HTTPRequest, name string, valid func(id string) bool, notFound error) (string, error) {
	id := req.PathParameters[name]
	if !valid(id) {
		return "", notFound
	}
	return id, nil
}

// HexID reports whether id is 32 lower-case hex characters: 128 bits, as
// crypto/rand or a truncated SHA-256 makes the ids of jobs, batches, quotes,
// imports and uploads.
func HexID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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
// number with a prefix, short enough to keep the keys of idempotency records small. A record's key
// is a short prefix, the caller's subject and this key ("submit/{sub}/{key}"): with
// MaxSubjectLength, under 400 bytes, far below DynamoDB's 2048-byte limit on a partition key.
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
