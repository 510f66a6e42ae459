package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
)

// refusal is why the gateway answers a request itself instead of forwarding it.
type refusal int

const (
	// refuseDenied: IAM does not allow one of the request's accesses.
	refuseDenied refusal = iota
	// refuseUnknownKey: the request is signed with a key no caller has.
	refuseUnknownKey
	// refuseUnsigned: the request carries no signature.
	refuseUnsigned
	// refuseUnsupported: the classifier does not know what the request needs (ErrUnsupported).
	refuseUnsupported
	// refuseMalformed: the request lacks what its operation needs (ErrMalformed).
	refuseMalformed
	// refuseTooLarge: the body that had to be read to classify the request is over the limit.
	refuseTooLarge
)

// serviceError is one error as a service answers it.
type serviceError struct {
	status int
	// code is the error code the SDK reports (smithy.APIError's ErrorCode).
	code string
	// jsonType is the __type of the JSON body, where it differs from code (SQS answers JSON with
	// the coral exception name, and the query protocol's code in the x-amzn-query-error header).
	jsonType string
	// message is the text used when the refusal carries none of its own.
	message string
	// server marks a fault on the service's side (5xx): SQS and SNS then name the Receiver, not
	// the Sender, as the party at fault.
	server bool
}

const (
	invalidToken   = "The security token included in the request is invalid."
	missingToken   = "Request is missing Authentication Token"
	notImplemented = "The local IAM gateway cannot tell which IAM actions this request needs"
)

// serviceErrors are each service's answers to each refusal: status, code and text as the service
// returns them, so the caller's SDK decodes the same error it would get on AWS.
var serviceErrors = map[string]map[refusal]serviceError{
	"dynamodb": {
		refuseDenied:      {status: http.StatusBadRequest, code: "AccessDeniedException"},
		refuseUnknownKey:  {status: http.StatusBadRequest, code: "UnrecognizedClientException", message: invalidToken},
		refuseUnsigned:    {status: http.StatusBadRequest, code: "MissingAuthenticationTokenException", message: missingToken},
		refuseUnsupported: {status: http.StatusNotImplemented, code: "NotImplemented"},
		refuseMalformed:   {status: http.StatusBadRequest, code: "ValidationException"},
		refuseTooLarge:    {status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge"},
	},
	"sqs": {
		refuseDenied:      {status: http.StatusForbidden, code: "AccessDenied", jsonType: "AccessDeniedException"},
		refuseUnknownKey:  {status: http.StatusForbidden, code: "InvalidClientTokenId", jsonType: "UnrecognizedClientException", message: invalidToken},
		refuseUnsigned:    {status: http.StatusForbidden, code: "MissingAuthenticationToken", jsonType: "MissingAuthenticationTokenException", message: missingToken},
		refuseUnsupported: {status: http.StatusNotImplemented, code: "NotImplemented", jsonType: "NotImplemented"},
		refuseMalformed:   {status: http.StatusBadRequest, code: "InvalidParameterValue", jsonType: "InvalidParameterValueException"},
		refuseTooLarge:    {status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge", jsonType: "RequestEntityTooLarge"},
	},
	"sns": {
		refuseDenied:      {status: http.StatusForbidden, code: "AuthorizationError"},
		refuseUnknownKey:  {status: http.StatusForbidden, code: "InvalidClientTokenId", message: invalidToken},
		refuseUnsigned:    {status: http.StatusForbidden, code: "MissingAuthenticationToken", message: missingToken},
		refuseUnsupported: {status: http.StatusNotImplemented, code: "NotImplemented"},
		refuseMalformed:   {status: http.StatusBadRequest, code: "InvalidParameter"},
		refuseTooLarge:    {status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge"},
	},
	"s3": {
		refuseDenied:      {status: http.StatusForbidden, code: "AccessDenied"},
		refuseUnknownKey:  {status: http.StatusForbidden, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records."},
		refuseUnsigned:    {status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"},
		refuseUnsupported: {status: http.StatusNotImplemented, code: "NotImplemented"},
		refuseMalformed:   {status: http.StatusBadRequest, code: "MalformedXML"},
		refuseTooLarge:    {status: http.StatusRequestEntityTooLarge, code: "EntityTooLarge"},
	},
	"lambda": {
		refuseDenied:      {status: http.StatusForbidden, code: "AccessDeniedException"},
		refuseUnknownKey:  {status: http.StatusForbidden, code: "UnrecognizedClientException", message: invalidToken},
		refuseUnsigned:    {status: http.StatusForbidden, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"},
		refuseUnsupported: {status: http.StatusNotImplemented, code: "NotImplemented"},
		refuseMalformed:   {status: http.StatusBadRequest, code: "InvalidParameterValueException"},
		refuseTooLarge:    {status: http.StatusRequestEntityTooLarge, code: "RequestTooLargeException"},
	},
}

// deniedMessage is the text AWS gives for a denied access, naming the caller, the action and the
// resource. Services spell the action differently: SQS lower-cases it ("sqs:sendmessage"), SNS
// upper-cases its prefix ("SNS:Publish"), and S3 quotes its resources.
func deniedMessage(callerARN string, a Access, explicitDeny bool) string {
	action, resource := a.Action, a.Resource
	prefix, name, _ := strings.Cut(action, ":")
	switch prefix {
	case "sqs":
		action = strings.ToLower(action)
	case "sns":
		action = "SNS:" + name
	case "s3":
		resource = strconv.Quote(resource)
	}
	if explicitDeny {
		return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy", callerARN, action, resource)
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", callerARN, action, resource, action)
}

// writeServiceError answers r with service's error for refusal, in the service's protocol.
// message replaces the error's default text when not empty; accessKeyID is named by S3's
// InvalidAccessKeyId.
func writeServiceError(w http.ResponseWriter, r *http.Request, service string, why refusal, message, accessKeyID string) {
	e := serviceErrors[service][why]
	if message == "" {
		message = e.message
	}
	// DynamoDB's and Lambda's AccessDeniedException say "Message"; their other errors say "message".
	messageKey := "message"
	if why == refuseDenied {
		messageKey = "Message"
	}
	if why != refuseUnknownKey {
		accessKeyID = ""
	}
	writeError(w, r, service, e, message, accessKeyID, messageKey)
}

// writeError answers r with error e in service's protocol. accessKeyID, when not empty, is named
// in S3's error document; messageKey is the JSON name of DynamoDB's and Lambda's message field.
func writeError(w http.ResponseWriter, r *http.Request, service string, e serviceError, message, accessKeyID, messageKey string) {
	party := "Sender"
	if e.server {
		party = "Receiver"
	}
	h := w.Header()
	switch service {
	case "dynamodb", "sqs":
		typ := e.jsonType
		if typ == "" {
			typ = e.code
		}
		key := "message"
		if service == "dynamodb" {
			key = messageKey
		}
		body, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#" + typ, key: message})
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("x-amzn-RequestId", requestID())
		if service == "dynamodb" {
			// DynamoDB signs every response body with its CRC32, and the SDK checks it.
			h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		} else {
			// SQS's JSON protocol keeps the query protocol's error code for older clients; the SDK
			// reports it as the error code.
			h.Set("x-amzn-query-error", e.code+";"+party)
		}
		write(w, r, e.status, body)
	case "sns":
		var doc struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			XMLNS   string   `xml:"xmlns,attr"`
			Error   struct {
				Type    string `xml:"Type"`
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
			RequestID string `xml:"RequestId"`
		}
		doc.XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
		doc.Error.Type, doc.Error.Code, doc.Error.Message = party, e.code, message
		doc.RequestID = requestID()
		body, _ := xml.Marshal(doc)
		h.Set("Content-Type", "text/xml")
		h.Set("x-amzn-RequestId", doc.RequestID)
		write(w, r, e.status, body)
	case "s3":
		var doc struct {
			XMLName        xml.Name `xml:"Error"`
			Code           string   `xml:"Code"`
			Message        string   `xml:"Message"`
			AWSAccessKeyID string   `xml:"AWSAccessKeyId,omitempty"`
			RequestID      string   `xml:"RequestId"`
			HostID         string   `xml:"HostId"`
		}
		doc.Code, doc.Message, doc.RequestID, doc.HostID = e.code, message, s3RequestID(), s3HostID()
		doc.AWSAccessKeyID = accessKeyID
		body, _ := xml.Marshal(doc)
		h.Set("Content-Type", "application/xml")
		h.Set("x-amz-request-id", doc.RequestID)
		h.Set("x-amz-id-2", doc.HostID)
		write(w, r, e.status, append([]byte(xml.Header), body...))
	case "lambda":
		typ := "User"
		if e.server {
			typ = "Service"
		}
		body, _ := json.Marshal(map[string]string{messageKey: message, "Type": typ})
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-ErrorType", e.code)
		h.Set("x-amzn-RequestId", requestID())
		write(w, r, e.status, body)
	default:
		http.Error(w, message, e.status)
	}
}

// write sends status and body; a HEAD response has no body, as S3 answers HEAD errors.
func write(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// requestID returns a UUID, as DynamoDB, SQS, SNS and Lambda name their requests.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// s3RequestID and s3HostID look like S3's x-amz-request-id and x-amz-id-2.
func s3RequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func s3HostID() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
