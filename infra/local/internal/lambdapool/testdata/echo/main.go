// Command echo is a Lambda function for the lambdapool tests. It answers with what it sees (its
// pid, environment, deadline, working directory) and misbehaves on request: it sleeps, waits for
// a file, fails, panics, exits, allocates memory, writes log lines or lingers after answering
// (before it asks for the next invocation), as the payload asks.
//
// Set in its environment, ECHO_INIT_EXIT, ECHO_INIT_ERROR and ECHO_INIT_SLEEP_MS make it fail or
// stall before it starts the runtime loop. ECHO_SIGTERM_MESSAGE makes it print that message when it
// receives SIGTERM through lambda.WithEnableSIGTERM (which registers an extension), and
// ECHO_NOTIFY_MESSAGE when it receives SIGTERM through signal.Notify alone (no extension).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// request says what the handler should do, in this order.
type request struct {
	Echo     json.RawMessage `json:"echo,omitempty"`
	LogLines int             `json:"logLines,omitempty"`
	WaitFile string          `json:"waitFile,omitempty"`
	SleepMS  int             `json:"sleepMs,omitempty"`
	AllocMB  int             `json:"allocMb,omitempty"`
	Error    string          `json:"error,omitempty"`
	Panic    string          `json:"panic,omitempty"`
	Exit     *int            `json:"exit,omitempty"`
	LingerMS int             `json:"lingerMs,omitempty"`
	// RegisterExtension registers an extension with the Extensions API from inside an invocation,
	// after Init, and answers the status it got.
	RegisterExtension bool `json:"registerExtension,omitempty"`
}

// response is what the handler saw.
type response struct {
	Echo        json.RawMessage   `json:"echo,omitempty"`
	PID         int               `json:"pid"`
	DeadlineMS  int64             `json:"deadlineMs"`
	RequestID   string            `json:"requestId"`
	FunctionARN string            `json:"functionArn"`
	Dir         string            `json:"dir"`
	Environ     map[string]string `json:"environ"`
	// RegisterStatus is the Extensions API's answer to RegisterExtension.
	RegisterStatus int `json:"registerStatus,omitempty"`
}

func main() {
	if ms, err := strconv.Atoi(os.Getenv("ECHO_INIT_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if code, err := strconv.Atoi(os.Getenv("ECHO_INIT_EXIT")); err == nil {
		os.Exit(code)
	}
	if msg := os.Getenv("ECHO_INIT_ERROR"); msg != "" {
		postInitError(msg)
		os.Exit(1)
	}
	if msg := os.Getenv("ECHO_NOTIFY_MESSAGE"); msg != "" {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGTERM)
		go func() {
			<-signals
			fmt.Println(msg)
			os.Exit(0)
		}()
	}
	if msg := os.Getenv("ECHO_SIGTERM_MESSAGE"); msg != "" {
		lambda.StartWithOptions(handle, lambda.WithEnableSIGTERM(func() { fmt.Println(msg) }))
		return
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, req request) (any, error) {
	for i := range req.LogLines {
		// Each line in two writes, so that the pool has to put lines together.
		fmt.Fprintf(os.Stdout, "stdout pid=%d i=%d ", os.Getpid(), i)
		fmt.Fprintln(os.Stdout, strings.Repeat("x", 100))
		fmt.Fprintf(os.Stderr, "stderr pid=%d i=%d ", os.Getpid(), i)
		fmt.Fprintln(os.Stderr, strings.Repeat("y", 100))
	}
	if req.WaitFile != "" {
		for {
			if _, err := os.Stat(req.WaitFile); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if req.SleepMS > 0 {
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond) // deliberately ignores ctx
	}
	if req.AllocMB > 0 {
		b := make([]byte, req.AllocMB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touch every page, so that it counts as resident
		}
		time.Sleep(10 * time.Second) // hold it until the pool notices
		runtime.KeepAlive(b)
	}
	if req.Error != "" {
		return nil, errors.New(req.Error)
	}
	if req.Panic != "" {
		panic(req.Panic)
	}
	if req.Exit != nil {
		os.Exit(*req.Exit)
	}

	resp := response{
		Echo:    req.Echo,
		PID:     os.Getpid(),
		Environ: map[string]string{},
	}
	if d, ok := ctx.Deadline(); ok {
		resp.DeadlineMS = d.UnixMilli()
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		resp.RequestID = lc.AwsRequestID
		resp.FunctionARN = lc.InvokedFunctionArn
	}
	if req.RegisterExtension {
		resp.RegisterStatus = registerExtension()
	}
	resp.Dir, _ = os.Getwd()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		resp.Environ[k] = v
	}
	if req.LingerMS > 0 {
		body, err := json.Marshal(resp)
		if err != nil {
			return nil, err
		}
		return &lingering{Reader: bytes.NewReader(body), d: time.Duration(req.LingerMS) * time.Millisecond}, nil
	}
	return resp, nil
}

// lingering is a response that keeps the runtime busy after it has been sent: aws-lambda-go
// closes a response that is an io.Closer after posting it and before asking for the next
// invocation. It marshals to "{}", which is what makes aws-lambda-go send it as a stream.
type lingering struct {
	*bytes.Reader `json:"-"`
	d             time.Duration
}

// Close sleeps, as a function flushing telemetry after its response might.
func (l *lingering) Close() error {
	time.Sleep(l.d)
	return nil
}

// postInitError reports an init failure to the Runtime API, as a runtime that cannot start does.
// registerExtension registers an internal extension for no events, as lambda.WithEnableSIGTERM
// does, and returns the status of the answer (0 when none came).
func registerExtension() int {
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2020-01-01/extension/register"
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"events":[]}`))
	if err != nil {
		return 0
	}
	req.Header.Set("Lambda-Extension-Name", "late")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func postInitError(msg string) {
	body, _ := json.Marshal(map[string]string{"errorType": "EchoInitError", "errorMessage": msg})
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "post init error:", err)
		return
	}
	resp.Body.Close()
}
