package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"

	"github.com/go-serverless/reference/services/pricing/internal/flags/launchdarkly"
	"github.com/go-serverless/reference/services/pricing/internal/handlers"
	"github.com/go-serverless/reference/shared/coldstart"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// BenchmarkInit measures GetPriceFunction's cold start with the template's polling flag source:
// init-ms is the build step main hands to coldstart.Start (settings, clients, handler; the AWS
// configuration is loaded before, as in every function), first-request-ms the first GET
// /prices/{sku} after it (a beta user, so v2 means the flags were used). SSM and LaunchDarkly are
// local servers:
//
//   - ld-reachable: SSM answers with the key, LaunchDarkly with the committed flags.
//   - ld-unreachable: LaunchDarkly never answers; ld-refused: nothing listens on its port.
//   - ssm-hanging: SSM never answers (AWS_ENDPOINT_URL_SSM).
//
// It reports the engines served; it asserts nothing about time. Run it with
//
//	go test -run '^$' -bench Init -benchtime 5x ./cmd/get-price/
func BenchmarkInit(b *testing.B) {
	const key = "sdk-bench"
	flagData, err := os.ReadFile(filepath.Join("..", "..", "flags.json"))
	if err != nil {
		b.Fatal(err)
	}
	ld := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sdk/") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(flagData)
			return
		}
		w.WriteHeader(http.StatusAccepted) // analytics events
	}))
	defer ld.Close()
	ssm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GetParameter, AWS JSON 1.1; stored with a trailing newline, as put-parameter often does.
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte(`{"Parameter":{"Name":"/pricing/sdk-key","Type":"SecureString","Value":"` + key + `\n"}}`))
	}))
	defer ssm.Close()
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	defer close(release) // before silent.Close, which waits for its requests
	refused := closedAddress(b)

	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(b, "../../testdata/get-price.json", &req)
	// The handler writes an EMF line per request to os.Stdout, which is the benchmark's output.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()

	for _, tc := range []struct{ name, ssm, ld string }{
		{name: "ld-reachable", ssm: ssm.URL, ld: ld.URL},
		{name: "ld-unreachable", ssm: ssm.URL, ld: silent.URL},
		{name: "ld-refused", ssm: ssm.URL, ld: refused},
		{name: "ssm-hanging", ssm: silent.URL, ld: ld.URL},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for k, v := range map[string]string{
				"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
				"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
				"AWS_ENDPOINT_URL_SSM": tc.ssm,
				// GetPriceFunction's environment in template.yaml, with FlagSource's default.
				"FLAG_SOURCE": "polling", "LD_SDK_KEY_PARAMETER": "/pricing/sdk-key", "LD_START_WAIT_MS": "200", "LD_DYNAMODB_TABLE": "ld",
			} {
				b.Setenv(k, v)
			}
			ctx := context.Background()
			d, err := coldstart.Setup(ctx, lambdatest.QuietLogger())
			if err != nil {
				b.Fatal(err)
			}
			stdout := os.Stdout
			os.Stdout = devNull
			defer func() { os.Stdout = stdout }() // before the result line is printed
			var initTime, firstTime time.Duration
			engines := map[string]int{}
			for b.Loop() {
				started := time.Now()
				settings, err := launchdarkly.SettingsFromEnv(os.Getenv)
				if err != nil {
					b.Fatal(err)
				}
				settings.Endpoints = interfaces.ServiceEndpoints{Polling: tc.ld, Streaming: tc.ld, Events: ld.URL}
				h, ev := newPrice(d, settings)
				built := time.Now()
				resp, _ := h.Handle(ctx, req)
				answered := time.Now()

				initTime += built.Sub(started)
				firstTime += answered.Sub(built)
				engines[resp.Headers[handlers.EngineHeader]]++
				b.StopTimer()
				ev.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(initTime.Microseconds())/1e3/float64(b.N), "init-ms")
			b.ReportMetric(float64(firstTime.Microseconds())/1e3/float64(b.N), "first-request-ms")
			b.Logf("engines served to a beta user: %v", engines)
		})
	}
}

// closedAddress is an http URL on which nothing listens.
func closedAddress(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
