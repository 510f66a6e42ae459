package template

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tmpl, err := Parse([]byte(src), "/app")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return tmpl
}

func TestFunctionsTypedFields(t *testing.T) {
	tmpl := mustParse(t, `
Parameters:
  FunctionTimeout: {Type: Number, Default: 12}
Resources:
  SubmitJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs/
      Timeout: !Ref FunctionTimeout
      MemorySize: 256
      ReservedConcurrentExecutions: 5
      LoggingConfig:
        LogFormat: JSON
        ApplicationLogLevel: DEBUG
      Environment:
        Variables:
          TABLE_NAME: !Ref JobsTable
      Events:
        Submit:
          Type: HttpApi
          Properties: {Path: /jobs, Method: POST}
        Api:
          Type: HttpApi
  GetJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
  JobsTable:
    Type: AWS::DynamoDB::Table
`)
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("functions: %v", err)
	}
	if len(fns) != 2 || fns[0].LogicalID != "GetJobFunction" || fns[1].LogicalID != "SubmitJobFunction" {
		t.Fatalf("got %d functions %v, want GetJobFunction then SubmitJobFunction", len(fns), fns)
	}

	get := fns[0]
	if get.Timeout != 3*time.Second || get.MemoryMB != 128 || get.ReservedConcurrency != 0 {
		t.Errorf("GetJobFunction defaults: got Timeout %v Memory %d Reserved %d, want 3s 128 0",
			get.Timeout, get.MemoryMB, get.ReservedConcurrency)
	}
	if get.Package != "services/jobs/cmd/get-job" || get.CodeURI != "services/jobs" {
		t.Errorf("GetJobFunction: got CodeURI %q Package %q, want services/jobs, services/jobs/cmd/get-job",
			get.CodeURI, get.Package)
	}

	submit := fns[1]
	if submit.Timeout != 12*time.Second {
		t.Errorf("Timeout: got %v, want 12s (parameter default)", submit.Timeout)
	}
	if submit.MemoryMB != 256 || submit.ReservedConcurrency != 5 {
		t.Errorf("got Memory %d Reserved %d, want 256 5", submit.MemoryMB, submit.ReservedConcurrency)
	}
	if submit.LogFormat != "JSON" || submit.LogLevel != "DEBUG" {
		t.Errorf("logging: got %q %q, want JSON DEBUG", submit.LogFormat, submit.LogLevel)
	}
	if submit.Package != "services/jobs/cmd/submit-job" {
		t.Errorf("Package: got %q, want services/jobs/cmd/submit-job", submit.Package)
	}
	wantEnv := map[string]Value{"TABLE_NAME": map[string]Value{"Ref": "JobsTable"}}
	if !reflect.DeepEqual(submit.Environment, wantEnv) {
		t.Errorf("Environment: got %#v, want %#v (unresolved)", submit.Environment, wantEnv)
	}
	wantEvents := []Event{
		{Name: "Api", Type: "HttpApi", Properties: map[string]Value{}},
		{Name: "Submit", Type: "HttpApi", Properties: map[string]Value{"Path": "/jobs", "Method": "POST"}},
	}
	if !reflect.DeepEqual(submit.Events, wantEvents) {
		t.Errorf("Events: got %#v, want %#v", submit.Events, wantEvents)
	}
	if submit.Properties["MemorySize"] != 256 {
		t.Errorf("Properties: got %v, want the raw properties", submit.Properties)
	}
}

func TestFunctionsGlobals(t *testing.T) {
	tests := []struct {
		name    string
		globals string
		props   string
		check   func(t *testing.T, f Function)
	}{
		{
			name:    "scalar from globals",
			globals: "Timeout: 10\nMemorySize: 512",
			props:   "CodeUri: svc",
			check: func(t *testing.T, f Function) {
				if f.Timeout != 10*time.Second || f.MemoryMB != 512 {
					t.Errorf("got %v %d, want 10s 512", f.Timeout, f.MemoryMB)
				}
			},
		},
		{
			name:    "function overrides scalar",
			globals: "Timeout: 10",
			props:   "CodeUri: svc\nTimeout: 30",
			check: func(t *testing.T, f Function) {
				if f.Timeout != 30*time.Second {
					t.Errorf("got %v, want 30s", f.Timeout)
				}
			},
		},
		{
			name:    "environment variables merge key-wise",
			globals: "Environment:\n  Variables: {LOG_LEVEL: INFO, STAGE: dev}",
			props:   "CodeUri: svc\nEnvironment:\n  Variables: {STAGE: prod, TABLE: !Ref T}",
			check: func(t *testing.T, f Function) {
				want := map[string]Value{"LOG_LEVEL": "INFO", "STAGE": "prod", "TABLE": map[string]Value{"Ref": "T"}}
				if !reflect.DeepEqual(f.Environment, want) {
					t.Errorf("got %#v, want %#v", f.Environment, want)
				}
			},
		},
		{
			name:    "lists are additive, globals first",
			globals: "Layers: [a]",
			props:   "CodeUri: svc\nLayers: [b]",
			check: func(t *testing.T, f Function) {
				if got, want := f.Properties["Layers"], []Value{"a", "b"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			},
		},
		{
			name:    "an intrinsic replaces a map",
			globals: "Tags: {A: x}",
			props:   "CodeUri: svc\nTags: !If [C, {B: y}, !Ref AWS::NoValue]",
			check: func(t *testing.T, f Function) {
				if _, ok := f.Properties["Tags"].(map[string]Value)["Fn::If"]; !ok {
					t.Errorf("got %#v, want the function's Fn::If", f.Properties["Tags"])
				}
			},
		},
		{
			name:    "logging config merges",
			globals: "LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}",
			props:   "CodeUri: svc\nLoggingConfig: {ApplicationLogLevel: DEBUG}",
			check: func(t *testing.T, f Function) {
				if f.LogFormat != "JSON" || f.LogLevel != "DEBUG" {
					t.Errorf("got %q %q, want JSON DEBUG", f.LogFormat, f.LogLevel)
				}
			},
		},
		{
			name:    "code uri from globals",
			globals: "CodeUri: services/jobs",
			props:   "Timeout: 5",
			check: func(t *testing.T, f Function) {
				if f.Package != "services/jobs/cmd/process-job" {
					t.Errorf("got %q, want services/jobs/cmd/process-job", f.Package)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Globals:\n  Function:\n" + indent(tt.globals, "    ") +
				"Resources:\n  ProcessJobFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n" + indent(tt.props, "      ")
			tmpl := mustParse(t, src)
			fns, err := tmpl.Functions()
			if err != nil {
				t.Fatalf("functions: %v", err)
			}
			tt.check(t, fns[0])
			// Merging must leave the template's own Globals untouched for the next function.
			again, err := tmpl.Functions()
			if err != nil || !reflect.DeepEqual(again, fns) {
				t.Errorf("a second Functions call gave %v, %v; want the same result", again, err)
			}
		})
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}

func TestFunctionsErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{
			name: "logical ID without Function suffix",
			src:  "Resources:\n  SubmitJob:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: svc}\n",
			want: `"SubmitJob" does not follow the <Name>Function convention`,
		},
		{
			name: "no CodeUri",
			src:  "Resources:\n  SubmitJobFunction:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: bootstrap}\n",
			want: "function SubmitJobFunction: no CodeUri",
		},
		{
			name: "CodeUri in S3",
			src:  "Resources:\n  SubmitJobFunction:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: {Bucket: b, Key: k}}\n",
			want: "S3 location",
		},
		{
			name: "Timeout not a number",
			src:  "Resources:\n  SubmitJobFunction:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: svc, Timeout: soon}\n",
			want: `Timeout: "soon" is not an integer`,
		},
		{
			name: "Environment as an intrinsic",
			src:  "Resources:\n  SubmitJobFunction:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: svc, Environment: !If [C, {}, {}]}\n",
			want: "Environment is not a mapping",
		},
		{
			name: "Timeout from a resource",
			src:  "Resources:\n  SubmitJobFunction:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: svc, Timeout: !GetAtt Q.Timeout}\n  Q: {Type: AWS::SQS::Queue}\n",
			want: "Fn::GetAtt Q.Timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustParse(t, tt.src).Functions()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPackageName(t *testing.T) {
	tests := []struct {
		id, want string
	}{
		{"SubmitJobFunction", "submit-job"},
		{"ProcessJobFunction", "process-job"},
		{"GetJobFunction", "get-job"},
		{"HealthFunction", "health"},
		{"GetURLFunction", "get-url"},
		{"URLShortenerFunction", "url-shortener"},
		{"ResizeS3ImageFunction", "resize-s3-image"},
	}
	for _, tt := range tests {
		got, err := PackageName(tt.id)
		if err != nil || got != tt.want {
			t.Errorf("PackageName(%q): got %q, %v; want %q", tt.id, got, err, tt.want)
		}
	}
	for _, id := range []string{"Function", "SubmitJob", "SubmitJobFunctions"} {
		if _, err := PackageName(id); err == nil {
			t.Errorf("PackageName(%q): got no error, want one", id)
		}
	}
}

func TestOfType(t *testing.T) {
	tmpl := mustParse(t, `
Resources:
  Zeta: {Type: AWS::SQS::Queue}
  Alpha: {Type: AWS::SQS::Queue}
  Table: {Type: AWS::DynamoDB::Table}
`)
	got := tmpl.OfType("AWS::SQS::Queue")
	if len(got) != 2 || got[0].LogicalID != "Alpha" || got[1].LogicalID != "Zeta" {
		t.Errorf("got %v, want Alpha then Zeta", got)
	}
	if got := tmpl.OfType("AWS::SNS::Topic"); len(got) != 0 {
		t.Errorf("got %v, want none", got)
	}
}
