// Package correlation carries a correlation ID and a debug-sampling decision
// across every hop of a request: the HTTP edge, SQS messages, SNS
// notifications and asynchronous Lambda invocations.
//
// One ID per chain lets you find every log line a request caused, in every
// function it touched, with one CloudWatch Logs Insights query. The sampling
// decision travels with it so that a sampled chain logs at DEBUG in every
// function, not only in the first: a debug line is worth little without the
// debug lines of the hops before and after it.
//
// Where the IDs come from decides whether they can be trusted:
//
//   - At the HTTP edge the ID may come from the client (so a caller can quote
//     it in a support ticket), but the sampling decision is always made here,
//     fresh. See [Extractor.HTTP].
//   - SQS, SNS and invoke payloads are written only by this application's own
//     functions (their IAM policies say so), so both the ID and the sampling
//     decision are taken as sent.
//
// A handler extracts the IDs once, stores them with [NewContext] and passes
// the context on; the logging package reads them from there, and the outgoing
// helpers ([CarrierFrom], [SetHeader], and Attributes in the packages sqsattr
// and snsattr) copy them onto the next hop.
//
// This package reads events through aws-lambda-go's event types and never
// imports an AWS SDK service package: every function of the repository links
// it, and in Go every linked package's init runs at cold start. The helpers
// that build SDK-typed message attributes live in sqsattr and snsattr, which
// only the functions that send SQS messages or publish SNS notifications link.
package correlation

import (
	"context"
	"crypto/rand"
	"fmt"
	randv2 "math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Header is the HTTP header that carries the correlation ID, on requests and
// on every response.
const Header = "x-correlation-id"

// Message attribute names used on SQS messages and SNS notifications (written
// by sqsattr and snsattr, read by [Extractor.SQS] and [Extractor.SNS]). SNS
// copies message attributes onto SQS messages when the subscription uses raw
// message delivery, so the same names work on both.
const (
	AttributeCorrelationID = "correlation-id"
	AttributeDebugSampled  = "debug-sampled"
)

// maxIDLength bounds an ID accepted from outside. A correlation ID is copied
// onto every log line and every message of the chain; an unbounded one would
// let a client inflate all of them.
const maxIDLength = 128

// IDs is what travels with one chain of work.
type IDs struct {
	// CorrelationID names the chain in logs and on the wire.
	CorrelationID string
	// DebugSampled is true when every function in the chain logs at DEBUG.
	DebugSampled bool
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries ids.
func NewContext(ctx context.Context, ids IDs) context.Context {
	return context.WithValue(ctx, contextKey{}, ids)
}

// FromContext returns the IDs stored in ctx by NewContext, and whether there
// were any.
func FromContext(ctx context.Context) (IDs, bool) {
	ids, ok := ctx.Value(contextKey{}).(IDs)
	return ids, ok
}

// Extractor reads IDs from incoming events and makes new ones where an event
// carries none. The zero value is usable: it never samples, draws from
// math/rand/v2 and makes random UUIDv4 IDs.
type Extractor struct {
	// SampleRate is the fraction of new chains, between 0 and 1, that log at
	// DEBUG. 0.01 samples one chain in a hundred.
	SampleRate float64
	// Rand returns a number in [0, 1); nil means math/rand/v2's Float64.
	Rand func() float64
	// NewID returns a new correlation ID; nil means a random UUIDv4.
	NewID func() string
}

// New starts a chain: a new ID and a fresh sampling decision. Use it for
// events that carry no correlation, such as S3 notifications and schedules.
func (e Extractor) New() IDs {
	return IDs{CorrelationID: e.newID(), DebugSampled: e.sample()}
}

// HTTP reads the IDs of an API Gateway HTTP API (payload format 2.0) request.
//
// The correlation ID is the x-correlation-id header when the client sent a
// well-formed one (so a caller can choose the ID it quotes to support), else
// API Gateway's request ID (which also appears in API Gateway's access logs),
// else a new one.
//
// The sampling decision ignores anything the client sends and is always
// drawn here. Debug logging multiplies log volume, and CloudWatch Logs
// charges per byte ingested: a client that could switch it on could raise
// the bill and flood the logs at will, and could make the functions write
// internal detail that is kept out of normal logs. Sampling is the
// operator's decision, made with SampleRate.
func (e Extractor) HTTP(req events.APIGatewayV2HTTPRequest) IDs {
	id := headerValue(req.Headers, Header)
	if !validID(id) {
		id = req.RequestContext.RequestID
	}
	if !validID(id) {
		id = e.newID()
	}
	return IDs{CorrelationID: id, DebugSampled: e.sample()}
}

// SQS reads the IDs from an SQS message's attributes. A message without a
// correlation ID starts a new chain.
//
// A notification that SNS delivered without raw message delivery carries its
// attributes inside the JSON envelope in the body, which SQS does not
// read; this repository subscribes queues with raw message delivery, so such
// a message simply starts a new chain.
func (e Extractor) SQS(msg events.SQSMessage) IDs {
	id := sqsString(msg.MessageAttributes, AttributeCorrelationID)
	if !validID(id) {
		return e.New()
	}
	sampled, _ := strconv.ParseBool(sqsString(msg.MessageAttributes, AttributeDebugSampled))
	return IDs{CorrelationID: id, DebugSampled: sampled}
}

// SNS reads the IDs from the message attributes of an SNS notification
// delivered straight to a Lambda function. A notification without a
// correlation ID starts a new chain.
func (e Extractor) SNS(rec events.SNSEntity) IDs {
	id := snsString(rec.MessageAttributes, AttributeCorrelationID)
	if !validID(id) {
		return e.New()
	}
	sampled, _ := strconv.ParseBool(snsString(rec.MessageAttributes, AttributeDebugSampled))
	return IDs{CorrelationID: id, DebugSampled: sampled}
}

// Payload reads the IDs from the Carrier embedded in an asynchronous invoke
// payload. A payload without a correlation ID starts a new chain.
func (e Extractor) Payload(p Carrier) IDs {
	if !validID(p.CorrelationID) {
		return e.New()
	}
	return IDs{CorrelationID: p.CorrelationID, DebugSampled: p.DebugSampled}
}

func (e Extractor) sample() bool {
	draw := e.Rand
	if draw == nil {
		draw = randv2.Float64
	}
	return draw() < e.SampleRate
}

func (e Extractor) newID() string {
	if e.NewID != nil {
		return e.NewID()
	}
	return newUUID()
}

// Carrier carries IDs inside a JSON payload, for hops that have no message
// attributes (asynchronous Lambda invokes, recursive self-invocations).
// Embed it in the payload struct:
//
//	type ImportPage struct {
//		correlation.Carrier
//		Bucket, Key string
//	}
type Carrier struct {
	CorrelationID string `json:"correlationId,omitempty"`
	DebugSampled  bool   `json:"debugSampled,omitempty"`
}

// CarrierFrom returns a Carrier holding the IDs in ctx, or an empty one.
func CarrierFrom(ctx context.Context) Carrier {
	ids, _ := FromContext(ctx)
	return Carrier{CorrelationID: ids.CorrelationID, DebugSampled: ids.DebugSampled}
}

// SetHeader sets the correlation ID header on h when ctx carries IDs. It
// never sends the sampling decision: the receiving HTTP edge would ignore it.
func SetHeader(ctx context.Context, h http.Header) {
	if ids, ok := FromContext(ctx); ok {
		h.Set(Header, ids.CorrelationID)
	}
}

// validID reports whether id is safe to adopt from outside: not empty, not
// too long, and made of characters that need no escaping in logs, headers or
// message attributes.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLength {
		return false
	}
	for _, c := range id {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '=':
		default:
			return false
		}
	}
	return true
}

// headerValue looks name up in headers without regard to case. API Gateway
// HTTP APIs lower-case header names in payload format 2.0, but test events
// and other front ends may not.
func headerValue(headers map[string]string, name string) string {
	if v, ok := headers[name]; ok {
		return v
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func sqsString(attrs map[string]events.SQSMessageAttribute, name string) string {
	a, ok := attrs[name]
	if !ok || a.StringValue == nil {
		return ""
	}
	return *a.StringValue
}

// snsString reads a String attribute from an SNS event, where each attribute
// arrives as a JSON object {"Type": "String", "Value": "..."}.
func snsString(attrs map[string]interface{}, name string) string {
	a, ok := attrs[name].(map[string]interface{})
	if !ok {
		return ""
	}
	v, _ := a["Value"].(string)
	return v
}

// newUUID returns a random (version 4) UUID. crypto/rand.Read never fails
// (it crashes the program if the system has no randomness to give).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
