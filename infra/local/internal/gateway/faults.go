package gateway

import (
	"encoding/json"
	"hash/crc32"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/faults"
)

// faultErrors are each service's answers to the error faults, as the service sends them: the
// SDK's retryer classifies them as it would on AWS (throttles by code, 500s and 503s by status).
var faultErrors = map[string]map[faults.Kind]serviceError{
	"dynamodb": {
		faults.ThroughputExceeded:  {status: http.StatusBadRequest, code: "ProvisionedThroughputExceededException", message: "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."},
		faults.Throttling:          {status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate of requests exceeds the allowed throughput."},
		faults.TransactionConflict: {status: http.StatusBadRequest, code: "TransactionConflictException", message: "Transaction is ongoing for the item"},
		faults.InternalError:       {status: http.StatusInternalServerError, code: "InternalServerError", message: "Internal server error", server: true},
	},
	"sqs": {
		faults.Throttling:    {status: http.StatusBadRequest, code: "RequestThrottled", jsonType: "RequestThrottled", message: "The request was denied due to request throttling."},
		faults.InternalError: {status: http.StatusInternalServerError, code: "InternalError", jsonType: "InternalError", message: "We encountered an internal error. Please try again.", server: true},
	},
	"sns": {
		faults.Throttling:    {status: http.StatusBadRequest, code: "Throttling", message: "Rate exceeded"},
		faults.InternalError: {status: http.StatusInternalServerError, code: "InternalError", message: "Internal Error", server: true},
	},
	"s3": {
		faults.Throttling:    {status: http.StatusServiceUnavailable, code: "SlowDown", message: "Please reduce your request rate."},
		faults.InternalError: {status: http.StatusInternalServerError, code: "InternalError", message: "We encountered an internal error. Please try again.", server: true},
	},
	"lambda": {
		faults.InternalError: {status: http.StatusInternalServerError, code: "ServiceException", message: "An internal error occurred", server: true},
	},
}

// faultKinds returns the kinds of fault a request for action can meet: its service's errors,
// latency and a lost answer. DynamoDB answers TransactionConflictException only to writes (an
// item being written by a transaction), so reads never meet it.
func faultKinds(service, action string) []faults.Kind {
	kinds := []faults.Kind{faults.Latency, faults.ResetAfterApply}
	for _, k := range faults.Kinds {
		if _, ok := faultErrors[service][k]; !ok {
			continue
		}
		if k == faults.TransactionConflict && !dynamoDBWrites[action] {
			continue
		}
		kinds = append(kinds, k)
	}
	return kinds
}

// dynamoDBWrites are the actions of the item writes a transaction can conflict with.
var dynamoDBWrites = map[string]bool{
	"dynamodb:PutItem": true, "dynamodb:UpdateItem": true, "dynamodb:DeleteItem": true, "dynamodb:ConditionCheckItem": true,
}

// fault asks the injector whether an authorized request meets a fault.
func (g *Gateway) fault(caller Caller, c classification) (faults.Decision, bool) {
	if g.cfg.Faults == nil || len(c.accesses) == 0 {
		return faults.Decision{}, false
	}
	first := c.accesses[0]
	t := faults.Target{Function: caller.Name, Service: g.cfg.Service, Operation: first.Action, Resource: first.Resource}
	return g.cfg.Faults.Gateway(t, faultKinds(g.cfg.Service, first.Action))
}

// inject applies fault d to r (which names items things: a transaction's items): a delay before
// forwarding, the request forwarded and its answer lost, or the service's error instead of the
// request.
func (g *Gateway) inject(w http.ResponseWriter, r *http.Request, d faults.Decision, items int) {
	switch d.Kind {
	case faults.Latency:
		t := time.NewTimer(d.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		g.proxy.ServeHTTP(w, r)
	case faults.ResetAfterApply:
		g.proxy.ServeHTTP(newRecorder(), r) // the stand-in applies it; the answer goes nowhere
		resetConnection(w)
	case faults.TransactionConflict:
		if g.cfg.Service == "dynamodb" && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
			writeTransactionCanceled(w, r, items)
			return
		}
		e := faultErrors[g.cfg.Service][d.Kind]
		writeError(w, r, g.cfg.Service, e, e.message, "", "message")
	default:
		e := faultErrors[g.cfg.Service][d.Kind]
		writeError(w, r, g.cfg.Service, e, e.message, "", "message")
	}
}

// writeTransactionCanceled answers a TransactWriteItems of items items as DynamoDB answers one
// that met another transaction: not TransactionConflictException, which is a single-item
// write's answer, but TransactionCanceledException with one reason per item, the first item's
// TransactionConflict and None for the others.
func writeTransactionCanceled(w http.ResponseWriter, r *http.Request, items int) {
	type reason struct {
		Code    string `json:"Code"`
		Message string `json:"Message,omitempty"`
	}
	reasons := make([]reason, max(items, 1))
	codes := make([]string, len(reasons))
	for i := range reasons {
		reasons[i], codes[i] = reason{Code: "None"}, "None"
	}
	reasons[0] = reason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}
	codes[0] = "TransactionConflict"
	body, _ := json.Marshal(struct {
		Type    string   `json:"__type"`
		Message string   `json:"Message"`
		Reasons []reason `json:"CancellationReasons"`
	}{
		Type:    "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		Reasons: reasons,
	})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("x-amzn-RequestId", requestID())
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	write(w, r, http.StatusBadRequest, body)
}

// resetConnection ends the client's connection with a TCP reset, as a connection lost after the
// service acted looks to its caller.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the response, which also ends the stream without an answer.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
