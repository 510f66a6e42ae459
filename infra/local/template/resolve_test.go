package template

import (
	"reflect"
	"strings"
	"testing"
)

const resolveTemplate = `
Parameters:
  Env: {Type: String, Default: dev}
  Size: {Type: Number, Default: 5}
  Zones: {Type: CommaDelimitedList, Default: "a,b,c"}
  Secret: {Type: String}
Mappings:
  EnvConfig:
    dev: {Memory: 128, Name: development}
    prod: {Memory: 1024, Name: production}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  DevAndSmall: !And [!Condition IsDev, !Equals [!Ref Size, 5]]
  ProdOrSmall: !Or [!Condition IsProd, !Equals [!Ref Size, "5"]]
  Loop: !Not [!Condition Loop]
Resources:
  JobsTable: {Type: AWS::DynamoDB::Table}
  JobsQueue: {Type: AWS::SQS::Queue}
  Key: {Type: AWS::KMS::Key}
`

const (
	queueURL = "http://sqs.us-east-1.localhost:4566/000000000000/app-JobsQueue"
	queueARN = "arn:aws:sqs:us-east-1:000000000000:app-JobsQueue"
)

func testBindings(t *testing.T) *Bindings {
	t.Helper()
	b := NewBindings(mustParse(t, resolveTemplate), "app", "eu-west-1")
	b.SetRef("JobsTable", "app-JobsTable")
	b.SetRef("JobsQueue", queueURL)
	b.SetAtt("JobsQueue", "Arn", queueARN)
	return b
}

func TestResolve(t *testing.T) {
	tests := []struct {
		expr string
		want Value
	}{
		{`!Ref JobsTable`, "app-JobsTable"},
		{`!Ref JobsQueue`, queueURL},
		{`!Ref Env`, "dev"},
		{`!Ref Size`, "5"},
		{`!Ref Zones`, []Value{"a", "b", "c"}},
		{`!Ref AWS::Region`, "eu-west-1"},
		{`!Ref AWS::AccountId`, "000000000000"},
		{`!Ref AWS::StackName`, "app"},
		{`!Ref AWS::Partition`, "aws"},
		{`!Ref AWS::URLSuffix`, "amazonaws.com"},
		{`!Ref AWS::StackId`, "arn:aws:cloudformation:eu-west-1:000000000000:stack/app/00000000-0000-0000-0000-000000000000"},
		{`!GetAtt JobsQueue.Arn`, queueARN},
		{`!GetAtt [JobsQueue, Arn]`, queueARN},
		{`{"Fn::GetAtt": "JobsQueue.Arn"}`, queueARN},
		{`!Sub "${JobsTable}/index/*"`, "app-JobsTable/index/*"},
		{`!Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${JobsTable}"`,
			"arn:aws:dynamodb:eu-west-1:000000000000:table/app-JobsTable"},
		{`!Sub "${JobsQueue.Arn}"`, queueARN},
		{`!Sub "${!Literal} and ${ Env }"`, "${Literal} and dev"},
		{`!Sub "cost: $5, ${unterminated"`, "cost: $5, ${unterminated"},
		{`!Sub ["${Name}-${Env}", {Name: !FindInMap [EnvConfig, !Ref Env, Name]}]`, "development-dev"},
		{`!Sub ["${JobsTable}", {JobsTable: overridden}]`, "overridden"},
		{`!Sub ["${N}", {N: 7}]`, "7"},
		{`!Join [":", [a, !Ref Env, 3]]`, "a:dev:3"},
		{`!Join ["", !Ref Zones]`, "abc"},
		{`!Select [1, !Ref Zones]`, "b"},
		{`!Select ["2", [x, y, z]]`, "z"},
		{`!Split [",", "x,y"]`, []Value{"x", "y"}},
		{`!Select [0, !Split ["/", !Sub "${JobsTable}/stream"]]`, "app-JobsTable"},
		{`!If [IsProd, big, small]`, "small"},
		{`!If [IsDev, !Ref JobsTable, !Ref Key]`, "app-JobsTable"},
		{`!FindInMap [EnvConfig, !Ref Env, Memory]`, 128},
		{`!GetAZs ""`, []Value{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{`!Base64 hello`, "aGVsbG8="},
		{`{"Fn::ToJsonString": {a: [1, !Ref Env], b: ">"}}`, `{"a":[1,"dev"],"b":">"}`},
		{`{"Fn::Length": !Ref Zones}`, 3},
		{`!Equals [!Ref Env, dev]`, true},
		{`{A: !Ref Env, B: !Ref AWS::NoValue, C: [1, !Ref AWS::NoValue, 2]}`, map[string]Value{"A": "dev", "C": []Value{1, 2}}},
		{`{A: !If [IsProd, x, !Ref AWS::NoValue]}`, map[string]Value{}},
		{`!Ref AWS::NoValue`, nil},
		{`plain`, "plain"},
		{`42`, 42},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			b := testBindings(t)
			v, err := valueOf(t, tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := b.Resolve(v)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`!Ref Unknown`, "Ref Unknown: the template declares no parameter or resource Unknown"},
		{`!Ref Key`, "Ref Key: resource Key (AWS::KMS::Key) has no local value"},
		{`!Ref Secret`, "Ref Secret: parameter has no default and was not set"},
		{`!GetAtt JobsQueue.QueueName`, "Fn::GetAtt JobsQueue.QueueName: resource JobsQueue (AWS::SQS::Queue) has no local value for QueueName"},
		{`!GetAtt Nope.Arn`, "Fn::GetAtt Nope.Arn: the template declares no resource Nope"},
		{`!Sub "${Nope}"`, "Fn::Sub ${Nope}"},
		{`!Sub "${Key.Arn}"`, "Key (AWS::KMS::Key) has no local value for Arn"},
		{`!Sub "${Zones}"`, "is not a string"},
		{`!Select [3, !Ref Zones]`, "index 3 is out of range"},
		{`!Select [x, !Ref Zones]`, `index "x" is not an integer`},
		{`!Join [",", !Ref Env]`, "is not a list"},
		{`!FindInMap [EnvConfig, test, Memory]`, "mapping EnvConfig has no key test"},
		{`!FindInMap [Nope, dev, Memory]`, "no mapping Nope"},
		{`!If [Unknown, a, b]`, "no condition Unknown"},
		{`!If [Loop, a, b]`, "condition Loop refers to itself"},
		{`!If [IsProd, a]`, "want a list of 3 arguments"},
		{`!ImportValue shared-vpc`, "Fn::ImportValue: not supported by the local runner"},
		{`!Sub ["${A}", notamap]`, "variables are not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			b := testBindings(t)
			v, err := valueOf(t, tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, err = b.Resolve(v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		env       string
		condition string
		want      bool
	}{
		{"dev", "IsProd", false},
		{"dev", "IsDev", true},
		{"dev", "DevAndSmall", true},
		{"dev", "ProdOrSmall", true},
		{"prod", "IsProd", true},
		{"prod", "IsDev", false},
		{"prod", "DevAndSmall", false},
		{"prod", "ProdOrSmall", true},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.condition, func(t *testing.T) {
			b := testBindings(t)
			if err := b.SetParameter("Env", tt.env); err != nil {
				t.Fatal(err)
			}
			got, err := b.Condition(tt.condition)
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSetParameter(t *testing.T) {
	b := testBindings(t)
	if err := b.SetParameter("Nope", "x"); err == nil {
		t.Error("SetParameter of an undeclared parameter: got no error")
	}
	if err := b.SetParameter("Zones", "x, y"); err != nil {
		t.Fatal(err)
	}
	got, err := b.Resolve(map[string]Value{"Ref": "Zones"})
	if want := []Value{"x", "y"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Ref Zones: got %#v, %v; want %#v", got, err, want)
	}
	if err := b.SetParameter("Secret", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ResolveString(map[string]Value{"Ref": "Secret"}); err != nil || got != "s3cret" {
		t.Errorf("Ref Secret: got %q, %v; want s3cret", got, err)
	}
}

func TestResolveString(t *testing.T) {
	b := testBindings(t)
	tests := []struct {
		v    Value
		want string
	}{
		{"x", "x"},
		{5, "5"},
		{2.5, "2.5"},
		{true, "true"},
		{map[string]Value{"Ref": "Size"}, "5"},
	}
	for _, tt := range tests {
		if got, err := b.ResolveString(tt.v); err != nil || got != tt.want {
			t.Errorf("ResolveString(%#v): got %q, %v; want %q", tt.v, got, err, tt.want)
		}
	}
	for _, v := range []Value{[]Value{"a"}, map[string]Value{"Ref": "AWS::NoValue"}, map[string]Value{"a": 1}} {
		if got, err := b.ResolveString(v); err == nil {
			t.Errorf("ResolveString(%#v): got %q, want an error", v, got)
		}
	}
}

func TestResolveLeavesInputUnchanged(t *testing.T) {
	b := testBindings(t)
	in := map[string]Value{"A": map[string]Value{"Ref": "Env"}, "B": map[string]Value{"Ref": "AWS::NoValue"}}
	if _, err := b.Resolve(in); err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{"A": map[string]Value{"Ref": "Env"}, "B": map[string]Value{"Ref": "AWS::NoValue"}}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("input changed to %#v", in)
	}
}

func TestHasRefAndAtt(t *testing.T) {
	b := testBindings(t)
	if !b.HasRef("JobsQueue") || b.HasRef("Key") {
		t.Errorf("HasRef: got JobsQueue %v Key %v, want true false", b.HasRef("JobsQueue"), b.HasRef("Key"))
	}
	if !b.HasAtt("JobsQueue", "Arn") || b.HasAtt("JobsQueue", "QueueName") {
		t.Errorf("HasAtt: got Arn %v QueueName %v, want true false",
			b.HasAtt("JobsQueue", "Arn"), b.HasAtt("JobsQueue", "QueueName"))
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`!Ref JobsQueue`, []string{"JobsQueue"}},
		{`!Ref AWS::Region`, []string{}},
		{`!GetAtt DLQ.Arn`, []string{"DLQ"}},
		{`{"Fn::GetAtt": "DLQ.Arn"}`, []string{"DLQ"}},
		{`!Sub "${Table}/${Queue.Arn}/${AWS::Region}/${!Skip}"`, []string{"Queue", "Table"}},
		{`!Sub ["${A}-${B}", {A: !Ref Env}]`, []string{"B", "Env"}},
		{`{deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 3, other: [!Ref Topic]}`, []string{"DLQ", "Topic"}},
		{`!If [C, !Ref A, !Ref B]`, []string{"A", "B"}},
		{`plain`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			v, err := valueOf(t, tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := References(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
