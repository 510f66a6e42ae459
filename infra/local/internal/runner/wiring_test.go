package runner

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/infra/local/internal/jwt"
	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
	"github.com/go-serverless/reference/infra/local/internal/provision"
	"github.com/go-serverless/reference/infra/local/internal/sources"
	"github.com/go-serverless/reference/infra/local/template"
)

const region = "us-east-1"

// The resources every test template declares, as provisioning would have left them.
const (
	jobsQueueURL     = "http://127.0.0.1:9324/000000000000/local-JobsQueue"
	jobsQueueARN     = "arn:aws:sqs:us-east-1:000000000000:local-JobsQueue"
	failuresQueueURL = "http://127.0.0.1:9324/000000000000/local-FailuresQueue"
	failuresQueueARN = "arn:aws:sqs:us-east-1:000000000000:local-FailuresQueue"
	ordersQueueURL   = "http://127.0.0.1:9324/000000000000/local-OrdersQueue.fifo"
	ordersQueueARN   = "arn:aws:sqs:us-east-1:000000000000:local-OrdersQueue.fifo"
	accountsStream   = "arn:aws:dynamodb:ddblocal:000000000000:table/local-AccountsTable/stream/2025-01-01T00:00:00.000"
	uploadsBucket    = "local-uploadsbucket"
	workFunctionARN  = "arn:aws:lambda:us-east-1:000000000000:function:local-WorkFunction"
)

// preamble starts every test template; tests append functions under Resources.
const preamble = `
Parameters:
  Stage: {Type: String, Default: dev}
  BatchSize: {Type: Number, Default: 25}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Mappings:
  Limits:
    dev: {Max: 5}
Resources:
  JobsQueue: {Type: AWS::SQS::Queue}
  FailuresQueue: {Type: AWS::SQS::Queue}
  OrdersQueue: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  AccountsTable: {Type: AWS::DynamoDB::Table}
  UploadsBucket: {Type: AWS::S3::Bucket}
  AlarmTopic: {Type: AWS::SNS::Topic}
  Dashboard: {Type: AWS::CloudWatch::Dashboard}
`

// workFunction returns the test template with one function, WorkFunction, with the given
// properties (one-line YAML each) and events (one-line flow mappings each).
func workFunction(props []string, events ...string) string {
	var b strings.Builder
	b.WriteString(preamble)
	b.WriteString("  WorkFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: services/jobs\n")
	for _, p := range props {
		b.WriteString("      " + p + "\n")
	}
	if len(events) > 0 {
		b.WriteString("      Events:\n")
		for _, e := range events {
			b.WriteString("        " + e + "\n")
		}
	}
	return b.String()
}

// testResources are the preamble's resources as Provision returns them.
func testResources() *provision.Resources {
	return &provision.Resources{
		Queues: map[string]provision.Queue{
			// SQS's default visibility timeout: the preamble declares none.
			"JobsQueue":     {LogicalID: "JobsQueue", Name: "local-JobsQueue", URL: jobsQueueURL, ARN: jobsQueueARN, VisibilityTimeout: 30 * time.Second},
			"FailuresQueue": {LogicalID: "FailuresQueue", Name: "local-FailuresQueue", URL: failuresQueueURL, ARN: failuresQueueARN, VisibilityTimeout: 30 * time.Second},
			"OrdersQueue":   {LogicalID: "OrdersQueue", Name: "local-OrdersQueue.fifo", URL: ordersQueueURL, ARN: ordersQueueARN, VisibilityTimeout: 30 * time.Second},
		},
		Tables: map[string]provision.Table{
			"AccountsTable": {LogicalID: "AccountsTable", Name: "local-AccountsTable", ARN: "arn:aws:dynamodb:us-east-1:000000000000:table/local-AccountsTable", StreamARN: accountsStream},
		},
		Topics: map[string]provision.Topic{
			"AlarmTopic": {LogicalID: "AlarmTopic", Name: "local-AlarmTopic", ARN: "arn:aws:sns:us-east-1:000000000000:local-AlarmTopic"},
		},
		Buckets: map[string]provision.Bucket{
			"UploadsBucket": {LogicalID: "UploadsBucket", Name: uploadsBucket, ARN: "arn:aws:s3:::" + uploadsBucket},
		},
		FunctionNames: map[string]string{},
	}
}

// testWiring parses src and builds a wiring over it with res bound as Provision binds it.
// Every function is named local-<LogicalID>.
func testWiring(t *testing.T, src string) *wiring {
	t.Helper()
	tmpl, err := template.Parse([]byte(src), t.TempDir())
	if err != nil {
		t.Fatalf("parse template: %v", err)
	}
	functions, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("functions: %v", err)
	}
	res := testResources()
	b := template.NewBindings(tmpl, "local", region)
	for id, q := range res.Queues {
		b.SetRef(id, q.URL)
		b.SetAtt(id, "Arn", q.ARN)
	}
	for id, tb := range res.Tables {
		b.SetRef(id, tb.Name)
		b.SetAtt(id, "Arn", tb.ARN)
		b.SetAtt(id, "StreamArn", tb.StreamARN)
	}
	for id, tp := range res.Topics {
		b.SetRef(id, tp.ARN)
	}
	for id, bk := range res.Buckets {
		b.SetRef(id, bk.Name)
		b.SetAtt(id, "Arn", bk.ARN)
	}
	for _, fn := range functions {
		res.FunctionNames[fn.LogicalID] = "local-" + fn.LogicalID
	}
	return &wiring{
		tmpl: tmpl, bindings: b, resources: res, functions: functions,
		invoker: &fakeInvoker{}, log: slog.New(slog.DiscardHandler), region: region, sqs: fakeSQS{},
	}
}

// errorContains reports whether err matches want: nil when want is "", else containing it.
func errorContains(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

// routeView is what a test compares of a route.
type routeView struct {
	Key, Function string
	// Guarded is whether the route has an authorizer.
	Guarded bool
	// Throttle is "rate/burst", "" for none.
	Throttle string
}

func viewRoutes(routes []sources.Route) []routeView {
	var out []routeView
	for _, r := range routes {
		v := routeView{Key: r.Key(), Function: r.Function, Guarded: r.Authorizer != nil}
		if r.Throttle != nil {
			v.Throttle = fmt.Sprintf("%v/%d", r.Throttle.Rate, r.Throttle.Burst)
		}
		out = append(out, v)
	}
	return out
}

// jobsAPI is a template whose HttpApi has the given properties block (YAML at six spaces) and
// whose functions serve three routes, GET /jobs/{jobId} with its own RouteSettings.
func jobsAPI(apiProps, getJobSettings string) string {
	return preamble + `  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
` + apiProps + `
  GetJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Events:
        GetJob:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Method: get, Path: "/jobs/{jobId}"` + getJobSettings + `}
  SubmitJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Events:
        Submit: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: POST, Path: /jobs}}
        Cancel: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: delete, Path: "/jobs/{jobId}"}}
`
}

func TestHTTPAPIRoutes(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []routeView
		wantErr string
	}{
		{
			name: "implicit API: one route per event, method upper-cased, all open without an authorizer",
			src: workFunction(nil,
				`Health: {Type: HttpApi, Properties: {Method: get, Path: /health, Auth: {Authorizer: NONE}}}`,
				`Submit: {Type: HttpApi, Properties: {Method: Post, Path: /jobs, Auth: {Authorizer: UserPoolAuthorizer}}}`,
				`Any: {Type: HttpApi, Properties: {Method: any, Path: "/files/{proxy+}"}}`,
				`Work: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn}}`,
			),
			want: []routeView{
				{Key: "ANY /files/{proxy+}", Function: "local-WorkFunction"},
				{Key: "GET /health", Function: "local-WorkFunction"},
				{Key: "POST /jobs", Function: "local-WorkFunction"},
			},
		},
		{
			name: "route settings: the event's own, then the API's RouteSettings, then DefaultRouteSettings",
			src: jobsAPI(`      DefaultRouteSettings: {ThrottlingRateLimit: !Ref BatchSize, ThrottlingBurstLimit: 100}
      RouteSettings:
        "POST /jobs": {ThrottlingRateLimit: 2.5, ThrottlingBurstLimit: 20}
        "GET /jobs/{jobId}": {ThrottlingRateLimit: 7, ThrottlingBurstLimit: 8}`,
				`, RouteSettings: {ThrottlingRateLimit: 1, ThrottlingBurstLimit: "2"}`),
			want: []routeView{
				{Key: "GET /jobs/{jobId}", Function: "local-GetJobFunction", Throttle: "1/2"},
				{Key: "DELETE /jobs/{jobId}", Function: "local-SubmitJobFunction", Throttle: "25/100"},
				{Key: "POST /jobs", Function: "local-SubmitJobFunction", Throttle: "2.5/20"},
			},
		},
		{
			name: "route settings without throttling fall back to the default",
			src: jobsAPI(`      DefaultRouteSettings: {ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100}
      RouteSettings:
        "POST /jobs": {DetailedMetricsEnabled: true}`, ``),
			want: []routeView{
				{Key: "GET /jobs/{jobId}", Function: "local-GetJobFunction", Throttle: "50/100"},
				{Key: "DELETE /jobs/{jobId}", Function: "local-SubmitJobFunction", Throttle: "50/100"},
				{Key: "POST /jobs", Function: "local-SubmitJobFunction", Throttle: "50/100"},
			},
		},
		{
			name: "no throttling anywhere",
			src:  jobsAPI(`      StageName: local`, ``),
			want: []routeView{
				{Key: "GET /jobs/{jobId}", Function: "local-GetJobFunction"},
				{Key: "DELETE /jobs/{jobId}", Function: "local-SubmitJobFunction"},
				{Key: "POST /jobs", Function: "local-SubmitJobFunction"},
			},
		},
		{
			name:    "DefaultRouteSettings with a rate only",
			src:     jobsAPI(`      DefaultRouteSettings: {ThrottlingRateLimit: 50}`, ``),
			wantErr: "DefaultRouteSettings: set both ThrottlingRateLimit and ThrottlingBurstLimit",
		},
		{
			name: "RouteSettings with a burst only",
			src: jobsAPI(`      RouteSettings:
        "POST /jobs": {ThrottlingBurstLimit: 20}`, ``),
			wantErr: "route POST /jobs: set both",
		},
		{
			name:    "an event's own RouteSettings with a rate only",
			src:     jobsAPI(`      StageName: local`, `, RouteSettings: {ThrottlingRateLimit: 1}`),
			wantErr: "route GET /jobs/{jobId}: set both",
		},
		{
			name: "two routes with one key",
			src: jobsAPI(`      StageName: local`, ``) + `  CancelFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Events:
        Cancel: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: DELETE, Path: "/jobs/{id}"}}
`,
			wantErr: "route DELETE /jobs/{jobId} of HttpApi (function SubmitJobFunction) and DELETE /jobs/{id} of HttpApi (function CancelFunction)",
		},
		{
			name:    "an ApiId that is not an HttpApi of the template",
			src:     workFunction(nil, `Get: {Type: HttpApi, Properties: {ApiId: !Ref JobsQueue, Method: GET, Path: /x}}`),
			wantErr: "function WorkFunction event Get: ApiId map[Ref:JobsQueue] is not !Ref of an AWS::Serverless::HttpApi of the template",
		},
		{
			name:    "a Method that does not resolve",
			src:     workFunction(nil, `Get: {Type: HttpApi, Properties: {Method: !Ref Nowhere, Path: /x}}`),
			wantErr: "function WorkFunction event Get: Method",
		},
		{
			name:    "a Path that does not resolve",
			src:     workFunction(nil, `Get: {Type: HttpApi, Properties: {Method: GET, Path: !Ref Nowhere}}`),
			wantErr: "function WorkFunction event Get: Path",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWiring(t, tt.src)
			api, err := w.httpAPI()
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := viewRoutes(api.Routes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got routes\n%+v\nwant\n%+v", got, tt.want)
			}
			if api.Invoker != w.invoker || api.Region != region {
				t.Errorf("got invoker %v region %q, want the wiring's %v %q", api.Invoker, api.Region, w.invoker, region)
			}
		})
	}
}

// authAPI is a template whose HttpApi declares auth (YAML at six spaces) and one public route.
func authAPI(auth string) string {
	return preamble + `  UserPool: {Type: AWS::Cognito::UserPool}
  UserPoolClient: {Type: AWS::Cognito::UserPoolClient}
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
` + auth + `
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Events:
        Health: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /health, Auth: {Authorizer: NONE}}}
        Submit: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: POST, Path: /jobs}}
`
}

func TestHTTPAPIAuthorizer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := jwt.NewIssuer(key, jwt.LocalIssuer)
	if err != nil {
		t.Fatal(err)
	}
	jwtAuth := `        DefaultAuthorizer: UserPoolAuthorizer
        Authorizers:
          UserPoolAuthorizer:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}
              audience: [!Ref UserPoolClient, second-audience]`
	tests := []struct {
		name string
		auth string
		// wantAudiences nil means no authorizer.
		wantAudiences []string
		wantErr       string
	}{
		{name: "JWT authorizer with the audience from Ref UserPoolClient", auth: jwtAuth, wantAudiences: []string{"client-123", "second-audience"}},
		{name: "no DefaultAuthorizer", auth: `        Authorizers: {}`},
		{name: "an empty DefaultAuthorizer", auth: `        DefaultAuthorizer: ""`},
		{
			name: "a Lambda authorizer",
			auth: `        DefaultAuthorizer: LambdaAuthorizer
        Authorizers:
          LambdaAuthorizer: {FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:auth"}`,
			wantErr: "HttpApi HttpApi: authorizer LambdaAuthorizer: only JWT authorizers are emulated locally",
		},
		{
			name:    "a DefaultAuthorizer that is not declared",
			auth:    `        DefaultAuthorizer: Missing`,
			wantErr: "HttpApi HttpApi: authorizer Missing: only JWT authorizers",
		},
		{
			name: "a JWT authorizer without audience",
			auth: `        DefaultAuthorizer: UserPoolAuthorizer
        Authorizers:
          UserPoolAuthorizer: {JwtConfiguration: {issuer: https://example.com}}`,
			wantErr: "HttpApi HttpApi: authorizer UserPoolAuthorizer declares no audience",
		},
		{
			name: "an audience that does not resolve",
			auth: `        DefaultAuthorizer: UserPoolAuthorizer
        Authorizers:
          UserPoolAuthorizer: {JwtConfiguration: {audience: [!Ref Nowhere]}}`,
			wantErr: "HttpApi HttpApi: authorizer UserPoolAuthorizer audience",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWiring(t, authAPI(tt.auth))
			w.issuer = issuer
			w.bindings.SetRef("UserPoolClient", "client-123")
			w.bindings.SetRef("UserPool", "us-east-1_local")
			api, err := w.httpAPI()
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			// Auth.Authorizer NONE leaves a route open.
			wantRoutes := []routeView{
				{Key: "GET /health", Function: "local-WorkFunction"},
				{Key: "POST /jobs", Function: "local-WorkFunction", Guarded: tt.wantAudiences != nil},
			}
			if got := viewRoutes(api.Routes); !reflect.DeepEqual(got, wantRoutes) {
				t.Errorf("got routes %+v, want %+v", got, wantRoutes)
			}
			if tt.wantAudiences == nil {
				if w.audience != "" {
					t.Errorf("got audience %q, want none", w.audience)
				}
				return
			}
			v, ok := api.Routes[1].Authorizer.(*jwt.Verifier)
			if !ok {
				t.Fatalf("got authorizer %T, want *jwt.Verifier", api.Routes[1].Authorizer)
			}
			if v.Issuer != jwt.LocalIssuer || !reflect.DeepEqual(v.Audiences, tt.wantAudiences) {
				t.Errorf("got issuer %q audiences %q, want %q %q", v.Issuer, v.Audiences, jwt.LocalIssuer, tt.wantAudiences)
			}
			if w.audience != tt.wantAudiences[0] {
				t.Errorf("got audience %q, want %q", w.audience, tt.wantAudiences[0])
			}
			// The verifier trusts the local issuer's key: a token `make token` would sign passes.
			for aud, wantOK := range map[string]bool{"client-123": true, "someone-else": false} {
				token, err := issuer.Token("user-1", aud, nil, time.Hour, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.Verify(token); (err == nil) != wantOK {
					t.Errorf("token for audience %q: got error %v, want accepted %v", aud, err, wantOK)
				}
			}
		})
	}
}

func TestThrottleSettings(t *testing.T) {
	tests := []struct {
		name      string
		v         template.Value
		wantRate  float64
		wantBurst int
		wantNone  bool
		wantErr   string
	}{
		{name: "absent", v: nil, wantNone: true},
		{name: "neither setting", v: map[string]template.Value{"DetailedMetricsEnabled": true}, wantNone: true},
		{name: "both", v: map[string]template.Value{"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20}, wantRate: 10, wantBurst: 20},
		{name: "fractional rate, string burst", v: map[string]template.Value{"ThrottlingRateLimit": 0.5, "ThrottlingBurstLimit": "3"}, wantRate: 0.5, wantBurst: 3},
		{name: "from a parameter", v: map[string]template.Value{"ThrottlingRateLimit": map[string]template.Value{"Ref": "BatchSize"}, "ThrottlingBurstLimit": 1}, wantRate: 25, wantBurst: 1},
		{name: "rate only", v: map[string]template.Value{"ThrottlingRateLimit": 10}, wantErr: "set both"},
		{name: "burst only", v: map[string]template.Value{"ThrottlingBurstLimit": 10}, wantErr: "set both"},
		{name: "burst not a number", v: map[string]template.Value{"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": "lots"}, wantErr: "set both"},
		{name: "unresolvable", v: map[string]template.Value{"ThrottlingRateLimit": map[string]template.Value{"Ref": "Nowhere"}}, wantErr: "Nowhere"},
	}
	w := testWiring(t, preamble)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.throttleSettings(tt.v)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			switch {
			case err != nil:
			case tt.wantNone:
				if got != nil {
					t.Errorf("got %v/%d, want no throttle", got.Rate, got.Burst)
				}
			case got == nil:
				t.Errorf("got no throttle, want %v/%d", tt.wantRate, tt.wantBurst)
			case got.Rate != tt.wantRate || got.Burst != tt.wantBurst:
				t.Errorf("got %v/%d, want %v/%d", got.Rate, got.Burst, tt.wantRate, tt.wantBurst)
			default:
				// A fresh throttle starts full: burst requests pass at once, the next does not.
				now := time.Unix(0, 0)
				for i := range tt.wantBurst {
					if !got.Allow(now) {
						t.Fatalf("request %d of the burst refused", i+1)
					}
				}
				if got.Allow(now) {
					t.Errorf("request beyond the burst allowed")
				}
			}
		})
	}
}

// sqsView is what a test compares of an SQS mapping.
type sqsView struct {
	Function, QueueURL, QueueARN, Region string
	BatchSize, Concurrency               int
	Window                               time.Duration
	Report                               bool
}

func TestSQSMappings(t *testing.T) {
	jobs := sqsView{Function: "local-WorkFunction", QueueURL: jobsQueueURL, QueueARN: jobsQueueARN, Region: region}
	tests := []struct {
		name    string
		src     string
		want    []sqsView
		wantErr string
	}{
		{
			name: "defaults: batches of 10, 5 pollers, no window",
			src:  workFunction(nil, `Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn}}`),
			want: []sqsView{{Function: jobs.Function, QueueURL: jobsQueueURL, QueueARN: jobsQueueARN, Region: region, BatchSize: 10, Concurrency: 5}},
		},
		{
			name: "declared values",
			src: workFunction(nil, `Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn, BatchSize: !Ref BatchSize, `+
				`MaximumBatchingWindowInSeconds: 3, ScalingConfig: {MaximumConcurrency: 2}, FunctionResponseTypes: [ReportBatchItemFailures]}}`),
			want: []sqsView{{Function: jobs.Function, QueueURL: jobsQueueURL, QueueARN: jobsQueueARN, Region: region,
				BatchSize: 25, Concurrency: 2, Window: 3 * time.Second, Report: true}},
		},
		{
			name: "an ARN written out, and other response types",
			src:  workFunction(nil, `Failures: {Type: SQS, Properties: {Queue: "`+failuresQueueARN+`", Enabled: true, FunctionResponseTypes: [Other]}}`),
			want: []sqsView{{Function: jobs.Function, QueueURL: failuresQueueURL, QueueARN: failuresQueueARN, Region: region, BatchSize: 10, Concurrency: 5}},
		},
		{
			name: "Enabled false is skipped",
			src: workFunction(nil,
				`Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn, Enabled: false}}`,
				`Failures: {Type: SQS, Properties: {Queue: !GetAtt FailuresQueue.Arn, Enabled: !Equals [!Ref Stage, dev]}}`),
			want: []sqsView{{Function: jobs.Function, QueueURL: failuresQueueURL, QueueARN: failuresQueueARN, Region: region, BatchSize: 10, Concurrency: 5}},
		},
		{
			name:    "a queue that is not in the template",
			src:     workFunction(nil, `Jobs: {Type: SQS, Properties: {Queue: "arn:aws:sqs:us-east-1:000000000000:elsewhere"}}`),
			wantErr: "function WorkFunction event Jobs: queue arn:aws:sqs:us-east-1:000000000000:elsewhere is not declared in the template",
		},
		{
			name:    "a property that does not resolve",
			src:     workFunction(nil, `Jobs: {Type: SQS, Properties: {Queue: !GetAtt Nowhere.Arn}}`),
			wantErr: "function WorkFunction event Jobs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWiring(t, tt.src)
			mappings, err := w.sqsMappings()
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			var got []sqsView
			for _, m := range mappings {
				got = append(got, sqsView{
					Function: m.Function, QueueURL: m.QueueURL, QueueARN: m.QueueARN, Region: m.Region,
					BatchSize: m.BatchSize, Concurrency: m.Concurrency, Window: m.Window, Report: m.ReportBatchItemFailures,
				})
				if m.SQS != w.sqs || m.Invoker != w.invoker || m.Log == nil {
					t.Errorf("got SQS %v invoker %v log %v, want the wiring's", m.SQS, m.Invoker, m.Log)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestSQSMappingsRefuseWhatAWSRefuses: an SQS event AWS would not create a mapping for stops the
// run at start-up, with an error naming the function, the event and what AWS refuses; the edges
// AWS accepts start.
func TestSQSMappingsRefuseWhatAWSRefuses(t *testing.T) {
	tests := []struct {
		name  string
		props string // the event's properties besides Queue and FunctionResponseTypes
		queue string // JobsQueue (standard) when empty
		// timeout is WorkFunction's Timeout property, SAM's default (3 s) when empty; every queue's
		// visibility timeout is 30 s.
		timeout string
		// wantErr is what the error says after "function WorkFunction event Work: AWS would refuse
		// this SQS event source: "; empty for an event AWS accepts.
		wantErr string
	}{
		{name: "BatchSize 1", props: "BatchSize: 1"},
		{name: "BatchSize 10 without a window", props: "BatchSize: 10"},
		{name: "BatchSize 11 with a 1 s window", props: "BatchSize: 11, MaximumBatchingWindowInSeconds: 1"},
		{name: "BatchSize 10,000 with the longest window", props: "BatchSize: 10000, MaximumBatchingWindowInSeconds: 300"},
		{name: "BatchSize from a parameter, with a window", props: "BatchSize: !Ref BatchSize, MaximumBatchingWindowInSeconds: 1"},
		{name: "MaximumConcurrency 2", props: "ScalingConfig: {MaximumConcurrency: 2}"},
		{name: "MaximumConcurrency 1,000", props: "ScalingConfig: {MaximumConcurrency: 1000}"},
		{name: "FIFO, BatchSize 10", props: "BatchSize: 10", queue: "OrdersQueue"},
		{name: "Timeout equal to the queue's visibility timeout", props: "BatchSize: 1", timeout: "30"},
		{
			name: "Timeout above the queue's visibility timeout", props: "BatchSize: 1", timeout: "31",
			wantErr: "queue JobsQueue has a visibility timeout of 30 seconds, less than the function's Timeout of 31 seconds",
		},
		{
			name: "Timeout above a FIFO queue's visibility timeout, disabled", props: "Enabled: false", queue: "OrdersQueue", timeout: "900",
			wantErr: "queue OrdersQueue has a visibility timeout of 30 seconds, less than the function's Timeout of 900 seconds",
		},
		{
			name: "Timeout above the visibility timeout, with another refusal", props: "BatchSize: 11", timeout: "60",
			wantErr: "BatchSize 11 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0; " +
				"queue JobsQueue has a visibility timeout of 30 seconds, less than the function's Timeout of 60 seconds",
		},
		{
			name: "BatchSize 0", props: "BatchSize: 0",
			wantErr: "BatchSize 0 is outside 1–10000, what Lambda takes from a standard queue",
		},
		{
			name: "BatchSize 10,001", props: "BatchSize: 10001, MaximumBatchingWindowInSeconds: 1",
			wantErr: "BatchSize 10001 is outside 1–10000, what Lambda takes from a standard queue",
		},
		{
			name: "FIFO, BatchSize 11", props: "BatchSize: 11", queue: "OrdersQueue",
			wantErr: "BatchSize 11 is outside 1–10, what Lambda takes from a FIFO queue",
		},
		{
			name: "FIFO, a batching window", props: "BatchSize: 10, MaximumBatchingWindowInSeconds: 1", queue: "OrdersQueue",
			wantErr: "MaximumBatchingWindowInSeconds 1 is set, and a FIFO queue takes no batching window",
		},
		{
			name: "BatchSize 11 without a window", props: "BatchSize: 11",
			wantErr: "BatchSize 11 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0",
		},
		{
			name: "BatchSize from a parameter (25), without a window", props: "BatchSize: !Ref BatchSize, MaximumBatchingWindowInSeconds: 0",
			wantErr: "BatchSize 25 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0",
		},
		{
			name: "window of 301 s", props: "MaximumBatchingWindowInSeconds: 301",
			wantErr: "MaximumBatchingWindowInSeconds 301 is outside 0–300",
		},
		{
			name: "negative window", props: "MaximumBatchingWindowInSeconds: -1",
			wantErr: "MaximumBatchingWindowInSeconds -1 is outside 0–300",
		},
		{
			name: "MaximumConcurrency 1", props: "ScalingConfig: {MaximumConcurrency: 1}",
			wantErr: "ScalingConfig.MaximumConcurrency 1 is outside 2–1000",
		},
		{
			name: "MaximumConcurrency 1,001", props: "ScalingConfig: {MaximumConcurrency: 1001}",
			wantErr: "ScalingConfig.MaximumConcurrency 1001 is outside 2–1000",
		},
		{
			name: "a disabled event is checked too", props: "BatchSize: 11, Enabled: false",
			wantErr: "BatchSize 11 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0",
		},
		{
			name: "every refusal is named", props: `BatchSize: "20", ScalingConfig: {MaximumConcurrency: 1}`,
			wantErr: "BatchSize 20 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0; " +
				"ScalingConfig.MaximumConcurrency 1 is outside 2–1000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queue := cmp.Or(tt.queue, "JobsQueue")
			var props []string
			if tt.timeout != "" {
				props = append(props, "Timeout: "+tt.timeout)
			}
			w := testWiring(t, workFunction(props, fmt.Sprintf(
				"Work: {Type: SQS, Properties: {Queue: !GetAtt %s.Arn, %s, FunctionResponseTypes: [ReportBatchItemFailures]}}", queue, tt.props)))
			mappings, err := w.sqsMappings()
			if tt.wantErr == "" {
				if err != nil || len(mappings) != 1 {
					t.Fatalf("got %d mappings, error %v; want the one mapping", len(mappings), err)
				}
				return
			}
			want := "function WorkFunction event Work: AWS would refuse this SQS event source: " + tt.wantErr
			if err == nil || err.Error() != want {
				t.Fatalf("got error %v\nwant %s", err, want)
			}
			if mappings != nil {
				t.Errorf("got %d mappings with the error; want none", len(mappings))
			}
		})
	}
}

// streamView is what a test compares of a stream mapping.
type streamView struct {
	Function, FunctionARN, StreamARN, Region, StartingPosition string
	BatchSize, MaximumRetryAttempts                            int
	Bisect, Report                                             bool
	OnFailure                                                  sources.Destination
}

func TestStreamMappings(t *testing.T) {
	streams := dynamodbstreams.New(dynamodbstreams.Options{Region: region})
	sender := &fakeSender{}
	base := streamView{Function: "local-WorkFunction", FunctionARN: workFunctionARN, StreamARN: accountsStream, Region: region}
	with := func(f func(v *streamView)) streamView {
		v := base
		f(&v)
		return v
	}
	tests := []struct {
		name    string
		src     string
		want    []streamView
		wantErr string
	}{
		{
			name: "defaults: batches of 100, retried until they succeed, no bisecting, no destination",
			src:  workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, StartingPosition: LATEST}}`),
			want: []streamView{with(func(v *streamView) { v.StartingPosition = "LATEST"; v.BatchSize = 100; v.MaximumRetryAttempts = -1 })},
		},
		{
			name: "no StartingPosition reads from the trim horizon",
			src:  workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn}}`),
			want: []streamView{with(func(v *streamView) { v.BatchSize = 100; v.MaximumRetryAttempts = -1 })},
		},
		{
			name: "declared values and an OnFailure queue",
			src: workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, StartingPosition: TRIM_HORIZON, `+
				`BatchSize: 10, MaximumRetryAttempts: "2", BisectBatchOnFunctionError: true, FunctionResponseTypes: [ReportBatchItemFailures], `+
				`DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt FailuresQueue.Arn}}}}`),
			want: []streamView{with(func(v *streamView) {
				v.StartingPosition = "TRIM_HORIZON"
				v.BatchSize = 10
				v.MaximumRetryAttempts = 2
				v.Bisect = true
				v.Report = true
				v.OnFailure = sources.SQSDestination{SQS: sender, QueueURL: failuresQueueURL}
			})},
		},
		{
			name: "MaximumRetryAttempts 0 gives up after the first failure",
			src:  workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, MaximumRetryAttempts: 0}}`),
			want: []streamView{with(func(v *streamView) { v.BatchSize = 100 })},
		},
		{
			name: "Enabled false is skipped",
			src:  workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, Enabled: false}}`),
		},
		{
			name:    "a stream that is not a table's of the template",
			src:     workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: "arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/1"}}`),
			wantErr: "function WorkFunction event Ledger: stream arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/1 is not a stream of a table in the template",
		},
		{
			name: "an OnFailure that is not a queue of the template",
			src: workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, `+
				`DestinationConfig: {OnFailure: {Type: SNS, Destination: !Ref AlarmTopic}}}}`),
			wantErr: "function WorkFunction event Ledger: OnFailure arn:aws:sns:us-east-1:000000000000:local-AlarmTopic is not a queue of the template",
		},
		{
			name:    "a property that does not resolve",
			src:     workFunction(nil, `Ledger: {Type: DynamoDB, Properties: {Stream: !GetAtt Nowhere.StreamArn}}`),
			wantErr: "function WorkFunction event Ledger",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWiring(t, tt.src)
			mappings, err := w.streamMappings(streams, sender)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			var got []streamView
			for _, m := range mappings {
				got = append(got, streamView{
					Function: m.Function, FunctionARN: m.FunctionARN, StreamARN: m.StreamARN, Region: m.Region,
					StartingPosition: m.StartingPosition, BatchSize: m.BatchSize, MaximumRetryAttempts: m.MaximumRetryAttempts,
					Bisect: m.BisectBatchOnFunctionError, Report: m.ReportBatchItemFailures, OnFailure: m.OnFailure,
				})
				if m.Streams != streams || m.Invoker != w.invoker || m.Log == nil {
					t.Errorf("got streams %v invoker %v log %v, want the wiring's", m.Streams, m.Invoker, m.Log)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestS3Subscriptions(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []sources.S3Subscription
		wantErr string
	}{
		{
			name: "one event name, no filter",
			src:  workFunction(nil, `Upload: {Type: S3, Properties: {Bucket: !Ref UploadsBucket, Events: "s3:ObjectCreated:*"}}`),
			want: []sources.S3Subscription{{Function: "local-WorkFunction", ConfigurationID: "Upload", Bucket: uploadsBucket, Events: []string{"s3:ObjectCreated:*"}}},
		},
		{
			name: "a list of event names and a key filter, rule names in any case",
			src: workFunction(nil, `Upload: {Type: S3, Properties: {Bucket: !Ref UploadsBucket, Events: ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"], `+
				`Filter: {S3Key: {Rules: [{Name: prefix, Value: uploads/}, {Name: Suffix, Value: !Sub ".${Stage}.jpg"}]}}}}`),
			want: []sources.S3Subscription{{Function: "local-WorkFunction", ConfigurationID: "Upload", Bucket: uploadsBucket,
				Events: []string{"s3:ObjectCreated:Put", "s3:ObjectRemoved:*"}, Prefix: "uploads/", Suffix: ".dev.jpg"}},
		},
		{
			name: "only S3 events",
			src: workFunction(nil,
				`Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn}}`,
				`Upload: {Type: S3, Properties: {Bucket: !Ref UploadsBucket, Events: ["s3:ObjectCreated:*"]}}`),
			want: []sources.S3Subscription{{Function: "local-WorkFunction", ConfigurationID: "Upload", Bucket: uploadsBucket, Events: []string{"s3:ObjectCreated:*"}}},
		},
		{
			name:    "no Events",
			src:     workFunction(nil, `Upload: {Type: S3, Properties: {Bucket: !Ref UploadsBucket}}`),
			wantErr: "function WorkFunction event Upload: no Events",
		},
		{
			name:    "a bucket the template does not declare",
			src:     workFunction(nil, `Upload: {Type: S3, Properties: {Bucket: someone-elses-bucket, Events: "s3:ObjectCreated:*"}}`),
			wantErr: "bucket someone-elses-bucket is not a bucket of the template",
		},
		{
			name:    "a Bucket that does not resolve",
			src:     workFunction(nil, `Upload: {Type: S3, Properties: {Bucket: !Ref Nowhere, Events: "s3:ObjectCreated:*"}}`),
			wantErr: "function WorkFunction event Upload",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testWiring(t, tt.src).s3Subscriptions()
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestAsyncInvokes(t *testing.T) {
	onFailure := `DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt FailuresQueue.Arn}}`
	tests := []struct {
		name string
		// config is WorkFunction's EventInvokeConfig, "" for none.
		config string
		// fail makes every invocation fail.
		fail bool
		// age is how old the event is when delivery starts.
		age time.Duration
		// done is the log message that ends delivery, "" when a destination record does.
		done      string
		wantCalls int
		// wantSent are the destination records sent: queue URL and condition.
		wantSent []sentRecord
		wantWarn string
	}{
		{
			name: "no EventInvokeConfig: two retries, then dropped",
			fail: true, done: "no OnFailure destination", wantCalls: 3,
		},
		{
			name:   "MaximumRetryAttempts 0 and an OnFailure queue",
			config: `{MaximumRetryAttempts: 0, ` + onFailure + `}`,
			fail:   true, wantCalls: 1,
			wantSent: []sentRecord{{QueueURL: failuresQueueURL, Condition: "RetriesExhausted", InvokeCount: 1}},
		},
		{
			name:   "MaximumRetryAttempts from a string",
			config: `{MaximumRetryAttempts: "1", ` + onFailure + `}`,
			fail:   true, wantCalls: 2,
			wantSent: []sentRecord{{QueueURL: failuresQueueURL, Condition: "RetriesExhausted", InvokeCount: 2}},
		},
		{
			name:   "an event older than MaximumEventAgeInSeconds is not invoked",
			config: `{MaximumEventAgeInSeconds: 60, ` + onFailure + `}`,
			age:    61 * time.Second, wantCalls: 0,
			wantSent: []sentRecord{{QueueURL: failuresQueueURL, Condition: "EventAgeExceeded", InvokeCount: 0}},
		},
		{
			name:   "an event younger than MaximumEventAgeInSeconds is invoked",
			config: `{MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 0}`,
			age:    61 * time.Second, fail: true, done: "no OnFailure destination", wantCalls: 1,
		},
		{
			name:      "an OnSuccess queue",
			config:    `{DestinationConfig: {OnSuccess: {Type: SQS, Destination: !GetAtt JobsQueue.Arn}}}`,
			wantCalls: 1,
			wantSent:  []sentRecord{{QueueURL: jobsQueueURL, Condition: "Success", InvokeCount: 1}},
		},
		{
			name:   "an OnFailure that is not a queue of the template is logged, not emulated",
			config: `{MaximumRetryAttempts: 0, DestinationConfig: {OnFailure: {Type: SNS, Destination: !Ref AlarmTopic}}}`,
			fail:   true, done: "no OnFailure destination", wantCalls: 1,
			wantWarn: "asynchronous invocation destination not emulated locally",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var props []string
			if tt.config != "" {
				props = []string{"EventInvokeConfig: " + tt.config}
			}
			w := testWiring(t, workFunction(props))
			logs := &logRecorder{}
			w.log = slog.New(logs)
			invoker := &fakeInvoker{fail: tt.fail}
			w.invoker = invoker
			sender := &fakeSender{}

			async, err := w.asyncInvokes(sender)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if async.Invoker != invoker || async.RetryDelay != time.Second {
				t.Errorf("got invoker %v retry delay %v, want the wiring's and 1s", async.Invoker, async.RetryDelay)
			}
			if tt.wantWarn != "" && !logs.has(tt.wantWarn) {
				t.Errorf("got log %q, want a line %q", logs.messages(), tt.wantWarn)
			}
			async.RetryDelay = time.Millisecond
			clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			async.Now = clock.Now
			async.Enqueue("local-WorkFunction", []byte(`{"job":"1"}`))
			clock.Advance(tt.age)

			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				async.Run(ctx)
			}()
			waitFor(t, func() bool {
				return len(sender.records()) >= len(tt.wantSent) && (tt.done == "" || logs.has(tt.done))
			})
			cancel()
			<-stopped

			if got := invoker.count(); got != tt.wantCalls {
				t.Errorf("got %d invocations, want %d", got, tt.wantCalls)
			}
			if got := sender.records(); !reflect.DeepEqual(got, tt.wantSent) {
				t.Errorf("got destination records %+v, want %+v", got, tt.wantSent)
			}
		})
	}
}

func TestAsyncInvokesUnresolvable(t *testing.T) {
	w := testWiring(t, workFunction([]string{`EventInvokeConfig: {MaximumRetryAttempts: !Ref Nowhere}`}))
	_, err := w.asyncInvokes(&fakeSender{})
	if want := "function WorkFunction EventInvokeConfig"; !errorContains(err, want) {
		t.Errorf("got error %v, want %q", err, want)
	}
}

func TestFunctionEnv(t *testing.T) {
	endpoints := map[string]string{"dynamodb": "http://127.0.0.1:8000", "s3": "http://127.0.0.1:7070", "lambda": "http://127.0.0.1:9001"}
	tests := []struct {
		name      string
		env       string
		endpoints map[string]string
		want      map[string]string
		wantErr   string
	}{
		{
			name: "intrinsics, numbers and booleans become strings; AWS::NoValue is dropped",
			env: `{TABLE: !Ref AccountsTable, QUEUE_ARN: !GetAtt JobsQueue.Arn, GREETING: !Sub "hello-${Stage}-${AWS::Region}", ` +
				`LIMIT: !FindInMap [Limits, !Ref Stage, Max], COUNT: 30, RATIO: 0.5, DEBUG: true, PLAIN: text, ` +
				`ONLY_IN_PROD: !If [IsProd, yes, !Ref AWS::NoValue], NOTHING: !Ref AWS::NoValue}`,
			endpoints: endpoints,
			want: map[string]string{
				"TABLE": "local-AccountsTable", "QUEUE_ARN": jobsQueueARN, "GREETING": "hello-dev-us-east-1",
				"LIMIT": "5", "COUNT": "30", "RATIO": "0.5", "DEBUG": "true", "PLAIN": "text",
				"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
				"AWS_ENDPOINT_URL_S3":       "http://127.0.0.1:7070",
				"AWS_ENDPOINT_URL_LAMBDA":   "http://127.0.0.1:9001",
			},
		},
		{
			name:      "no environment: the endpoints only",
			endpoints: map[string]string{"sqs": "http://127.0.0.1:9324"},
			want:      map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324"},
		},
		{
			name:      "an endpoint overrides a variable of the same name",
			env:       `{AWS_ENDPOINT_URL_SQS: https://sqs.us-east-1.amazonaws.com}`,
			endpoints: map[string]string{"sqs": "http://127.0.0.1:9324"},
			want:      map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324"},
		},
		{
			name:    "a reference that does not resolve",
			env:     `{GOOD: x, BAD: !Ref Nowhere}`,
			wantErr: "environment variable BAD",
		},
		{
			name:    "a list is not a string",
			env:     `{ZONES: !Split [",", "a,b"]}`,
			wantErr: "environment variable ZONES",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var props []string
			if tt.env != "" {
				props = []string{"Environment: {Variables: " + tt.env + "}"}
			}
			w := testWiring(t, workFunction(props))
			got, err := functionEnv(w.bindings, w.functions[0], tt.endpoints)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	src := workFunction(nil) + `  HttpApi: {Type: AWS::Serverless::HttpApi}
  AdminApi: {Type: AWS::Serverless::HttpApi}
Outputs:
  QueueArn: {Value: !GetAtt JobsQueue.Arn}
  Stage: {Description: the stage, Value: !Ref Stage}
  Count: {Value: 3}
  Region: {Value: !Sub "${AWS::Region}"}
  DashboardUrl: {Value: !Sub "https://console.aws.amazon.com/cloudwatch/home#dashboards:name=${Dashboard}"}
  ZoneList: {Value: !Split [",", "a,b"]}
  Empty: {Description: no value}
  ProdOnly: {Condition: IsProd, Value: !Ref Stage}
  ApiUrl: {Value: !Sub "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"}
  AdminUrl: {Value: !Sub "https://${AdminApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/admin"}
  ApiHost: {Value: !Sub "${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"}
  OtherUrl: {Value: "https://abc123.execute-api.us-east-1.amazonaws.com.example.com"}
`
	w := testWiring(t, src)
	// Every HttpApi's execute-api URL resolves, yet the local URL replaces what it would be in AWS.
	w.bindings.SetRef("HttpApi", "abc123")
	w.bindings.SetRef("AdminApi", "def456")
	got := w.outputs(w.tmpl.Outputs, "http://127.0.0.1:3000")
	want := map[string]string{
		"QueueArn": jobsQueueARN,
		"Stage":    "dev",
		"Count":    "3",
		"Region":   region,
		"ApiUrl":   "http://127.0.0.1:3000",
		"AdminUrl": "http://127.0.0.1:3000/admin",
		"ApiHost":  "abc123.execute-api.us-east-1.amazonaws.com",
		"OtherUrl": "https://abc123.execute-api.us-east-1.amazonaws.com.example.com",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

// The outputs are the template's own: no ApiUrl appears that the template does not declare.
func TestOutputsWithoutOutputs(t *testing.T) {
	w := testWiring(t, preamble)
	if got := w.outputs(w.tmpl.Outputs, "http://127.0.0.1:4000"); len(got) != 0 {
		t.Errorf("got %v, want none", got)
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		v      template.Value
		want   float64
		wantOK bool
	}{
		{v: 7, want: 7, wantOK: true},
		{v: -3, want: -3, wantOK: true},
		{v: int64(9), want: 9, wantOK: true},
		{v: 2.5, want: 2.5, wantOK: true},
		{v: "12", want: 12, wantOK: true},
		{v: "0.25", want: 0.25, wantOK: true},
		{v: " 30 ", want: 30, wantOK: true},
		{v: "1e3", want: 1000, wantOK: true},
		{v: "", wantOK: false},
		{v: "abc", wantOK: false},
		{v: "12abc", wantOK: false},
		{v: "10 20", wantOK: false},
		{v: "NaN", wantOK: false},
		{v: "Inf", wantOK: false},
		{v: math.Inf(1), wantOK: false},
		{v: math.NaN(), wantOK: false},
		{v: true, wantOK: false},
		{v: nil, wantOK: false},
		{v: []template.Value{1}, wantOK: false},
		{v: map[string]template.Value{"Ref": "BatchSize"}, wantOK: false},
	}
	for _, tt := range tests {
		got, ok := number(tt.v)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("number(%#v): got %v, %v, want %v, %v", tt.v, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestWebPages(t *testing.T) {
	src := preamble + `  SubmitJobFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: services/jobs}}
  GetJobFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: services/jobs}}
  QuoteFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: services/pricing}}
  ImportFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: services/imports}}
`
	w := testWiring(t, src)
	jobs := filepath.Join(w.tmpl.Dir, "services", "jobs", "web")
	if err := os.MkdirAll(jobs, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file named web is not a folder of pages.
	if err := os.MkdirAll(filepath.Join(w.tmpl.Dir, "services", "imports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.tmpl.Dir, "services", "imports", "web"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := w.webPages().Dirs
	if want := map[string]string{"jobs": jobs}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestBucketCORS(t *testing.T) {
	src := preamble + `  PagesBucket:
    Type: AWS::S3::Bucket
    Properties:
      CorsConfiguration:
        CorsRules:
          - AllowedMethods: [PUT, GET]
            AllowedOrigins: [!Sub "http://localhost:${Stage}"]
            AllowedHeaders: ["*"]
            ExposedHeaders: [ETag]
            MaxAge: 300
          - AllowedMethods: [GET]
            AllowedOrigins: ["*"]
`
	tests := []struct {
		name    string
		status  int
		want    []corsRule
		wantErr string
	}{
		{
			name:   "rules are put on the bucket",
			status: http.StatusOK,
			want: []corsRule{
				{AllowedMethods: []string{"PUT", "GET"}, AllowedOrigins: []string{"http://localhost:dev"}, AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: 300},
				{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}},
			},
		},
		{name: "the stand-in refuses", status: http.StatusInternalServerError, wantErr: "bucket PagesBucket: put CORS configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				requests []string
				got      corsConfiguration
			)
			server := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				requests = append(requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
				if err := xml.Unmarshal(body, &got); err != nil {
					t.Errorf("request body %q: %v", body, err)
				}
				rw.WriteHeader(tt.status)
			}))
			defer server.Close()
			client := s3.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")}, func(o *s3.Options) {
				o.BaseEndpoint = aws.String(server.URL)
				o.UsePathStyle = true
				o.RetryMaxAttempts = 1
			})

			w := testWiring(t, src)
			w.resources.Buckets["PagesBucket"] = provision.Bucket{LogicalID: "PagesBucket", Name: "local-pagesbucket"}
			err := w.bucketCORS(context.Background(), client)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			// UploadsBucket declares no CorsConfiguration: nothing is put on it.
			if want := []string{"PUT /local-pagesbucket?cors="}; !reflect.DeepEqual(requests, want) {
				t.Errorf("got requests %q, want %q", requests, want)
			}
			if err == nil && !reflect.DeepEqual(got.Rules, tt.want) {
				t.Errorf("got rules\n%+v\nwant\n%+v", got.Rules, tt.want)
			}
		})
	}
}

// corsConfiguration is the body of S3's PutBucketCors.
type corsConfiguration struct {
	Rules []corsRule `xml:"CORSRule"`
}

type corsRule struct {
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  int      `xml:"MaxAgeSeconds"`
}

func TestBuildFunctions(t *testing.T) {
	tests := []struct {
		name string
		// files are written into a fresh module named x.
		files     map[string]string
		functions []template.Function
		// wantBinaries are the functions whose binaries must exist.
		wantBinaries []string
		wantErr      []string
	}{
		{
			name: "one build per CodeUri, one binary per function",
			files: map[string]string{
				"cmd/hello-world/main.go": "package main\n\nfunc main() {}\n",
				"cmd/goodbye/main.go":     "package main\n\nfunc main() {}\n",
			},
			functions: []template.Function{
				{LogicalID: "HelloWorldFunction", CodeURI: ".", Package: "cmd/hello-world"},
				{LogicalID: "GoodbyeFunction", CodeURI: ".", Package: "cmd/goodbye"},
			},
			wantBinaries: []string{"HelloWorldFunction", "GoodbyeFunction"},
		},
		{
			name:      "a compile error is reported with the compiler's output",
			files:     map[string]string{"cmd/hello-world/main.go": "package main\n\nfunc main() { notDeclared() }\n"},
			functions: []template.Function{{LogicalID: "HelloWorldFunction", CodeURI: ".", Package: "cmd/hello-world"}},
			wantErr:   []string{"build functions in .", "undefined: notDeclared"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.files["go.mod"] = "module x\n\ngo 1.21\n"
			for name, content := range tt.files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "functions")
			binaries, err := buildFunctions(context.Background(), dir, out, tt.functions)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got no error, want one containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("got error %q, want it to contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if len(binaries) != len(tt.wantBinaries) {
				t.Errorf("got binaries %v, want one for each of %v", binaries, tt.wantBinaries)
			}
			for _, id := range tt.wantBinaries {
				path, ok := binaries[id]
				if !ok {
					t.Errorf("no binary for %s", id)
					continue
				}
				if !strings.HasPrefix(path, out+string(filepath.Separator)) {
					t.Errorf("%s: got binary %s, want it under %s", id, path, out)
				}
				info, err := os.Stat(path)
				if err != nil {
					t.Errorf("%s: %v", id, err)
					continue
				}
				if !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
					t.Errorf("%s: got mode %v, want an executable file", id, info.Mode())
				}
			}
		})
	}
}

func TestStartWithoutStandins(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	r, err := Start(context.Background(), Config{
		TemplatePath: filepath.Join(t.TempDir(), "template.yaml"),
		CacheDir:     t.TempDir(),
		StateDir:     state,
		Addr:         "127.0.0.1:0",
		Region:       region,
		Log:          slog.New(slog.DiscardHandler),
	})
	if err == nil || !strings.Contains(err.Error(), "make standins") {
		t.Fatalf("got runner %v error %v, want an error saying to run make standins", r, err)
	}
	if info, err := os.Stat(filepath.Join(state, "s3")); err != nil || !info.IsDir() {
		t.Errorf("state directory: got %v, want it created", err)
	}
}

// fakeInvoker counts invocations; each one fails when fail is set.
type fakeInvoker struct {
	fail bool

	mu    sync.Mutex
	calls int
}

func (f *fakeInvoker) Invoke(_ context.Context, _ string, _ []byte) (lambdapool.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail {
		return lambdapool.Result{
			Payload: []byte(`{"errorType":"Boom","errorMessage":"boom"}`),
			Err:     &lambdapool.FunctionError{Type: "Boom", Message: "boom"},
		}, nil
	}
	return lambdapool.Result{Payload: []byte(`{"ok":true}`)}, nil
}

func (f *fakeInvoker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeSQS stands in for the SQS client a mapping polls; these tests never poll.
type fakeSQS struct{}

func (fakeSQS) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return &sqs.ReceiveMessageOutput{}, nil
}

func (fakeSQS) DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	return &sqs.DeleteMessageBatchOutput{}, nil
}

// sentRecord is what a test compares of a destination record sent to a queue.
type sentRecord struct {
	QueueURL, Condition string
	InvokeCount         int
}

// fakeSender records the destination records sent to queues, and checks their function ARN.
type fakeSender struct {
	mu   sync.Mutex
	sent []sentRecord
	bad  []string
}

func (f *fakeSender) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	var record sources.DestinationRecord
	err := json.Unmarshal([]byte(aws.ToString(in.MessageBody)), &record)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || record.RequestContext.FunctionARN != workFunctionARN+":$LATEST" {
		f.bad = append(f.bad, aws.ToString(in.MessageBody))
	}
	f.sent = append(f.sent, sentRecord{QueueURL: aws.ToString(in.QueueUrl), Condition: record.RequestContext.Condition, InvokeCount: record.RequestContext.ApproximateInvokeCount})
	return &sqs.SendMessageOutput{}, nil
}

// records returns what was sent; a record naming the wrong function shows as its raw body.
func (f *fakeSender) records() []sentRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]sentRecord(nil), f.sent...)
	for _, b := range f.bad {
		out = append(out, sentRecord{Condition: "unexpected record " + b})
	}
	return out
}

// logRecorder is a slog.Handler that keeps every message.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

func (l *logRecorder) has(substr string) bool {
	for _, m := range l.messages() {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// waitFor polls cond until it holds, failing the test if it never does.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
