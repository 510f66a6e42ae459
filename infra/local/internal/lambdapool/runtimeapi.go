package lambdapool

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxPayloadBytes is Lambda's limit on a synchronous response (6 MB).
const maxPayloadBytes = 6 * 1024 * 1024

// Runtime API header and trailer names, as aws-lambda-go's runtime client uses them.
const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS  = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	// headerErrorType is sent as a header with /error, or as a trailer with /response.
	headerErrorType      = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody     = "Lambda-Runtime-Function-Error-Body"
	runtimeAPIBasePath   = "/2018-06-01/runtime"
	extensionAPIBasePath = "/2020-01-01/extension"
)

// runtimeAPI is the Lambda Runtime API for one environment. Each environment has its own
// listener, so every request here comes from e's runtime and no request needs to say which
// environment it is from.
func (p *Pool) runtimeAPI(e *env) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIBasePath+"/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		p.next(w, r, e)
	})
	mux.HandleFunc("POST "+runtimeAPIBasePath+"/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		p.answer(w, r, e, false)
	})
	mux.HandleFunc("POST "+runtimeAPIBasePath+"/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		p.answer(w, r, e, true)
	})
	mux.HandleFunc("POST "+runtimeAPIBasePath+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		p.initError(w, r, e)
	})
	mux.HandleFunc("POST "+extensionAPIBasePath+"/register", func(w http.ResponseWriter, r *http.Request) {
		p.registerExtension(w, r, e)
	})
	mux.HandleFunc("GET "+extensionAPIBasePath+"/event/next", func(w http.ResponseWriter, r *http.Request) {
		// No lifecycle events are ever sent. The process is killed while this waits.
		<-r.Context().Done()
	})
	return mux
}

// registerExtension answers the Extensions API's register call as far as
// lambda.WithEnableSIGTERM needs: aws-lambda-go registers an internal extension for no events,
// so that Lambda sends SIGTERM before SIGKILL at shutdown, and so does the pool (signalShutdownLocked).
func (p *Pool) registerExtension(w http.ResponseWriter, r *http.Request, e *env) {
	if r.Header.Get("Lambda-Extension-Name") == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "missing Lambda-Extension-Name")
		return
	}
	p.mu.Lock()
	if e.served {
		// Extensions register during Init, which the runtime's first /next ends; Lambda refuses
		// them after (the status and error type are the pool's: AWS documents only the refusal).
		p.mu.Unlock()
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "extensions register during Init, which has completed")
		return
	}
	e.extension = true
	p.mu.Unlock()
	w.Header().Set("Lambda-Extension-Identifier", newRequestID())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"functionName":    e.fn.cfg.Name,
		"functionVersion": "$LATEST",
		"handler":         "bootstrap",
	})
}

// next blocks until an invocation is queued for e's function, then delivers it. Calling it also
// ends e's init phase and, after an answer, makes e available again.
func (p *Pool) next(w http.ResponseWriter, r *http.Request, e *env) {
	for {
		p.mu.Lock()
		if e.state == stateDead {
			p.mu.Unlock()
			// The process is being killed. Like a frozen sandbox, it gets no answer: an error here
			// would only make it log a complaint on its way out.
			<-r.Context().Done()
			return
		}
		if e.cur != nil {
			p.mu.Unlock()
			writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "invocation "+e.cur.id+" has not been answered")
			return
		}
		e.served = true
		stopTimer(e.initTimer)
		if e.answered != nil {
			close(e.answered.released)
			e.answered = nil
		}
		fn := e.fn
		if len(fn.queue) > 0 {
			inv := fn.queue[0]
			fn.queue = fn.queue[1:]
			inv.env = e
			e.cur = inv
			e.state = stateBusy
			now := p.now()
			inv.delivered, inv.cold = now, !e.used
			e.used = true
			deadline := now.Add(fn.cfg.Timeout)
			p.wg.Add(1)
			go p.watch(e, inv)
			p.mu.Unlock()

			h := w.Header()
			h.Set(headerRequestID, inv.id)
			h.Set(headerDeadlineMS, strconv.FormatInt(deadline.UnixMilli(), 10))
			h.Set(headerFunctionARN, "arn:aws:lambda:"+p.region+":000000000000:function:"+fn.cfg.Name)
			h.Set(headerTraceID, newTraceID(now))
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(inv.payload) // if the runtime is gone, its exit is reported instead
			return
		}
		select {
		case <-e.wake: // drop a stale signal: this environment is about to look at the queue
		default:
		}
		e.state = stateIdle
		e.lastUsed = p.now()
		if p.idleTimeout > 0 {
			since := e.lastUsed
			e.idleTimer = time.AfterFunc(p.idleTimeout, func() { p.reapIdle(e, since) })
		}
		p.mu.Unlock()

		select {
		case <-e.wake:
		case <-e.stop:
		case <-r.Context().Done():
			return
		}
	}
}

// answer records the runtime's response (isError false) or error (isError true) for the
// invocation id, then leaves e finishing until its runtime calls /next again.
func (p *Pool) answer(w http.ResponseWriter, r *http.Request, e *env, isError bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayloadBytes+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read body: "+err.Error())
		return
	}
	tooLarge := len(body) > maxPayloadBytes

	var res Result
	switch {
	case tooLarge:
		res = functionError("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayloadBytes))
	case isError:
		res = errorResult(body, r.Header.Get(headerErrorType))
	case r.Trailer.Get(headerErrorType) != "":
		// The handler's response stream failed part way; aws-lambda-go reports it in trailers.
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		res = errorResult(doc, r.Trailer.Get(headerErrorType))
	default:
		res = Result{Payload: body}
	}

	p.mu.Lock()
	inv := e.cur
	if e.state != stateBusy || inv == nil || inv.id != r.PathValue("id") {
		p.mu.Unlock()
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" is in progress")
		return
	}
	p.finishLocked(e.fn, inv, res, nil)
	e.cur = nil
	e.answered = inv
	e.state = stateFinishing
	e.lastUsed = p.now()
	p.mu.Unlock()

	if tooLarge {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", res.Err.Message)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// initError records why the runtime failed to initialise. The runtime exits next; that exit
// reports this error to the invocation the environment was started for.
func (p *Pool) initError(w http.ResponseWriter, r *http.Request, e *env) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayloadBytes))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read body: "+err.Error())
		return
	}
	res := errorResult(body, r.Header.Get(headerErrorType))

	p.mu.Lock()
	if e.served {
		p.mu.Unlock()
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init has already completed")
		return
	}
	e.initFailure = res.Err
	p.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// watch enforces the timeout and the memory limit of inv while e runs it, which lasts until the
// runtime asks for the next invocation: work a function does after answering (a deferred Close,
// a flush) still counts against its timeout, as it does in Lambda.
func (p *Pool) watch(e *env, inv *invocation) {
	defer p.wg.Done()
	cfg := e.fn.cfg
	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	sample := time.NewTicker(p.sample)
	defer sample.Stop()
	limit := int64(cfg.MemoryMB) << 20

	for {
		select {
		case <-inv.released:
			return
		case <-e.stop:
			return
		case <-timeout.C:
			msg := fmt.Sprintf("Task timed out after %.2f seconds", cfg.Timeout.Seconds())
			p.abort(e, inv, functionError("Sandbox.Timedout", msg))
			return
		case <-sample.C:
			p.mu.Lock()
			pid := e.pid
			p.mu.Unlock()
			rss, err := residentBytes(pid)
			if errors.Is(err, errRSSUnsupported) {
				sample.Stop() // nothing to measure on this platform; the timeout still applies
				continue
			}
			if err != nil || rss <= limit {
				continue // the process may be gone already: its exit is reported elsewhere
			}
			msg := fmt.Sprintf("Runtime exited with error: signal: killed (resident memory %d MB over the %d MB limit)", rss>>20, cfg.MemoryMB)
			p.abort(e, inv, functionError("Runtime.OutOfMemory", msg))
			return
		}
	}
}

// abort kills e, which broke a limit while working on inv, and fails inv with res unless the
// runtime answered it already.
func (p *Pool) abort(e *env, inv *invocation, res Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.state == stateDead || e.cur != inv && e.answered != inv {
		return // the environment is gone already, or has moved on
	}
	fn := e.fn
	if inv.finished {
		p.logs.line(fn.cfg.Name, fmt.Sprintf("RequestId: %s Error after the response: %s", inv.id, res.Err.Message))
	} else {
		p.logs.line(fn.cfg.Name, fmt.Sprintf("RequestId: %s Error: %s", inv.id, res.Err.Message))
		p.finishLocked(fn, inv, res, nil)
	}
	p.killLocked(e)
	p.dispatchLocked(fn)
}

// errorResult reads an error document a runtime posted. A body that is not one still fails the
// invocation, with the type from the header when there is one.
func errorResult(body []byte, headerType string) Result {
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil || fe.Type == "" && fe.Message == "" {
		fe = FunctionError{Type: headerType, Message: string(body)}
		body = nil
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	if body == nil {
		body = fe.document()
	}
	return Result{Payload: body, Err: &fe}
}

// writeAPIError answers the runtime with an error in the Runtime API's shape.
func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}
