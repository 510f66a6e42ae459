package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
)

// MaxAsyncPayload is the limit on an asynchronous invocation's payload. Lambda long accepted
// 256 KB; keeping that limit means a payload that works locally works in every region.
const MaxAsyncPayload = 256 * 1024

// invokePath is the route of Lambda's Invoke API.
const invokePath = "POST /2015-03-31/functions/{function}/invocations"

// InvokeAPI serves Lambda's Invoke API (POST /2015-03-31/functions/{FunctionName}/invocations)
// on localhost, so that functions call each other through the AWS SDK exactly as in AWS: the
// runner gives every function AWS_ENDPOINT_URL_LAMBDA, the SDK's standard endpoint setting, and
// no function has a code path for local runs.
//
// X-Amz-Invocation-Type selects the behaviour:
//   - RequestResponse (the default) invokes the function and answers 200 with its response. A
//     function error is also 200, with X-Amz-Function-Error: Unhandled and the error document
//     as the body, as Lambda answers; the SDK returns it in InvokeOutput.FunctionError.
//   - Event hands the payload to the asynchronous invoker (Async: an internal queue, retries as
//     the function's EventInvokeConfig says, then its OnFailure destination) and answers 202.
//   - DryRun checks the function exists and answers 204.
//
// Errors have Lambda's status codes and error types: 404 ResourceNotFoundException for a
// function the template does not declare, 429 TooManyRequestsException when a synchronous
// invoke finds the function at its concurrency limit, 413 RequestTooLargeException, 400
// InvalidRequestContentException for a payload that is not JSON.
//
// What differs from Lambda: request signatures are not checked (every caller on this machine is
// trusted, and IAM is not emulated: tests/template checks the policies instead); only the
// unqualified function and $LATEST exist (no versions or aliases); X-Amz-Log-Type: Tail returns
// no log tail; X-Amz-Client-Context is not passed on.
type InvokeAPI struct {
	Log *slog.Logger

	listener net.Listener
	server   *http.Server

	mu        sync.RWMutex
	invoker   Invoker
	async     AsyncEnqueuer
	functions map[string]bool
}

// ListenInvokeAPI starts the Invoke API on addr (127.0.0.1:0 picks a free port). Its URL can be
// handed to functions before they are registered; until Route is called every invoke is refused
// with 503 ServiceException.
func ListenInvokeAPI(addr string, log *slog.Logger) (*InvokeAPI, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the Lambda Invoke API on %s: %w", addr, err)
	}
	a := &InvokeAPI{Log: log, listener: l}
	mux := http.NewServeMux()
	mux.HandleFunc(invokePath, a.invoke)
	a.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Lambda Invoke API stopped", "error", err)
		}
	}()
	return a, nil
}

// URL is the endpoint to give the SDK (AWS_ENDPOINT_URL_LAMBDA).
func (a *InvokeAPI) URL() string {
	return "http://" + a.listener.Addr().String()
}

// Route sets where invocations go: synchronous ones to invoker, asynchronous ones to async, for
// the functions named (all others are not found).
func (a *InvokeAPI) Route(invoker Invoker, async AsyncEnqueuer, functions []string) {
	known := make(map[string]bool, len(functions))
	for _, f := range functions {
		known[f] = true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.invoker, a.async, a.functions = invoker, async, known
}

// Close stops the server; invocations in progress are cut off.
func (a *InvokeAPI) Close() error {
	return a.server.Close()
}

func (a *InvokeAPI) invoke(w http.ResponseWriter, r *http.Request) {
	a.mu.RLock()
	invoker, async, known := a.invoker, a.async, a.functions
	a.mu.RUnlock()
	if invoker == nil {
		lambdaError(w, http.StatusServiceUnavailable, "ServiceException", "the local runner is still starting")
		return
	}
	ref := r.PathValue("function")
	name, ok := functionName(ref, r.URL.Query().Get("Qualifier"))
	if !ok || !known[name] {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+ref)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body")
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
		a.sync(w, r, invoker, name, payload)
	case "Event":
		if len(payload) > MaxAsyncPayload {
			lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the Event invocation type", MaxAsyncPayload))
			return
		}
		id := async.Enqueue(name, payload)
		a.Log.Debug("async invoke accepted", "function", name, "requestId", id)
		w.Header().Set("X-Amzn-Requestid", id)
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	default:
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("invalid X-Amz-Invocation-Type %q: want RequestResponse, Event or DryRun", typ))
	}
}

// sync runs one synchronous invocation and answers as Lambda does.
func (a *InvokeAPI) sync(w http.ResponseWriter, r *http.Request, invoker Invoker, name string, payload []byte) {
	if len(payload) > MaxPayload {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the RequestResponse invocation type", MaxPayload))
		return
	}
	result, err := invoker.Invoke(r.Context(), name, payload)
	switch {
	case errors.Is(err, lambdapool.ErrThrottled):
		lambdaThrottled(w)
		return
	case errors.Is(err, lambdapool.ErrUnknownFunction):
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	case errors.Is(err, lambdapool.ErrRequestTooLarge):
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the RequestResponse invocation type")
		return
	case err != nil:
		if r.Context().Err() == nil {
			a.Log.Error("sync invoke failed before reaching the function", "function", name, "error", err)
		}
		lambdaError(w, http.StatusInternalServerError, "ServiceException", "the function could not be invoked")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if result.Err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(result.Payload)
}

// functionName reduces what callers may pass as FunctionName (a name, name:qualifier, a partial
// ARN account:function:name or a full ARN) to the function's name. Only the unqualified
// function and $LATEST exist locally.
func functionName(ref, qualifier string) (string, bool) {
	name := ref
	if _, after, ok := strings.Cut(ref, ":function:"); ok {
		name = after
	}
	name, q, qualified := strings.Cut(name, ":")
	if qualified {
		if qualifier != "" && qualifier != q {
			return "", false
		}
		qualifier = q
	}
	if qualifier != "" && qualifier != "$LATEST" {
		return "", false
	}
	return name, name != "" && !strings.Contains(name, ":")
}

// lambdaError answers with the status, error type header and JSON body Lambda uses; the AWS SDK
// reads the type from X-Amzn-Errortype.
func lambdaError(w http.ResponseWriter, status int, typ, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": message})
}

// lambdaThrottled is Lambda's answer to a synchronous invoke over the function's concurrency.
func lambdaThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
	})
}
