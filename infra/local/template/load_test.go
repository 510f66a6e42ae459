package template

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valueOf parses a one-resource template whose property V is expr and returns V as loaded.
func valueOf(t *testing.T, expr string) (Value, error) {
	t.Helper()
	src := "Resources:\n  R:\n    Type: Test::Thing\n    Properties:\n      V: " + expr + "\n"
	tmpl, err := Parse([]byte(src), "/app")
	if err != nil {
		return nil, err
	}
	return tmpl.Resources["R"].Properties["V"], nil
}

func TestParseShortForms(t *testing.T) {
	tests := []struct {
		expr string
		want Value
	}{
		{`!Ref Queue`, map[string]Value{"Ref": "Queue"}},
		{`!GetAtt Queue.Arn`, map[string]Value{"Fn::GetAtt": []Value{"Queue", "Arn"}}},
		{`!GetAtt DB.Endpoint.Address`, map[string]Value{"Fn::GetAtt": []Value{"DB", "Endpoint.Address"}}},
		{`!GetAtt [Queue, Arn]`, map[string]Value{"Fn::GetAtt": []Value{"Queue", "Arn"}}},
		{`!Sub "${Table}-x"`, map[string]Value{"Fn::Sub": "${Table}-x"}},
		{`!Sub ["${A}", {A: !Ref B}]`, map[string]Value{"Fn::Sub": []Value{"${A}", map[string]Value{"A": map[string]Value{"Ref": "B"}}}}},
		{`!Join [",", [a, !Ref B]]`, map[string]Value{"Fn::Join": []Value{",", []Value{"a", map[string]Value{"Ref": "B"}}}}},
		{`!Select [0, !GetAZs ""]`, map[string]Value{"Fn::Select": []Value{0, map[string]Value{"Fn::GetAZs": ""}}}},
		{`!Split [",", "a,b"]`, map[string]Value{"Fn::Split": []Value{",", "a,b"}}},
		{`!If [IsProd, 1, 2]`, map[string]Value{"Fn::If": []Value{"IsProd", 1, 2}}},
		{`!Equals [!Ref Env, prod]`, map[string]Value{"Fn::Equals": []Value{map[string]Value{"Ref": "Env"}, "prod"}}},
		{`!Not [!Condition IsProd]`, map[string]Value{"Fn::Not": []Value{map[string]Value{"Condition": "IsProd"}}}},
		{`!And [!Condition A, !Condition B]`, map[string]Value{"Fn::And": []Value{map[string]Value{"Condition": "A"}, map[string]Value{"Condition": "B"}}}},
		{`!Or [!Condition A, !Condition B]`, map[string]Value{"Fn::Or": []Value{map[string]Value{"Condition": "A"}, map[string]Value{"Condition": "B"}}}},
		{`!FindInMap [M, K, V]`, map[string]Value{"Fn::FindInMap": []Value{"M", "K", "V"}}},
		{`!ImportValue shared-vpc`, map[string]Value{"Fn::ImportValue": "shared-vpc"}},
		{`!Base64 hello`, map[string]Value{"Fn::Base64": "hello"}},
		{`{"Ref": "Queue"}`, map[string]Value{"Ref": "Queue"}},
		{`30`, 30},
		{`30.0`, 30},
		{`1.5`, 1.5},
		{`"30"`, "30"},
		{`true`, true},
		{`~`, nil},
		{`2010-09-09`, "2010-09-09"},
		{`[1, two, false]`, []Value{1, "two", false}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := valueOf(t, tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseBlockForms(t *testing.T) {
	src := `
Resources:
  R:
    Type: Test::Thing
    Properties:
      Policy: !Sub
        - "arn:${AWS::Partition}:s3:::${Bucket}/*"
        - Bucket: !Ref Uploads
      Anchor: &shared {A: 1}
      Alias: *shared
`
	tmpl, err := Parse([]byte(src), "/app")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	props := tmpl.Resources["R"].Properties
	wantPolicy := map[string]Value{"Fn::Sub": []Value{
		"arn:${AWS::Partition}:s3:::${Bucket}/*",
		map[string]Value{"Bucket": map[string]Value{"Ref": "Uploads"}},
	}}
	if !reflect.DeepEqual(props["Policy"], wantPolicy) {
		t.Errorf("Policy: got %#v, want %#v", props["Policy"], wantPolicy)
	}
	if !reflect.DeepEqual(props["Alias"], map[string]Value{"A": 1}) {
		t.Errorf("Alias: got %#v, want the anchored mapping", props["Alias"])
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown tag", "Resources:\n  R:\n    Type: T\n    Properties:\n      V: !Reff X\n", "unknown tag !Reff"},
		{"getatt without attribute", "Resources:\n  R:\n    Type: T\n    Properties:\n      V: !GetAtt Queue\n", `!GetAtt "Queue"`},
		{"duplicate key", "Resources:\n  R:\n    Type: T\n  R:\n    Type: T\n", `duplicate key "R"`},
		{"no resources", "Parameters: {}\n", "no Resources"},
		{"resource without type", "Resources:\n  R:\n    Properties: {}\n", "resource R has no Type"},
		{"not a mapping", "- a\n- b\n", "not a mapping"},
		{"empty", "", "empty"},
		{"parameter without type", "Parameters:\n  P: {Default: x}\nResources:\n  R: {Type: T}\n", "parameter P has no Type"},
		{"bad yaml", "Resources: [\n", "decode yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "/app")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseSections(t *testing.T) {
	src := `
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: {Type: String, Default: dev}
  Size: {Type: Number, Default: 5}
Mappings:
  EnvConfig:
    dev: {Memory: 128}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Timeout: 10
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Condition: IsProd
    DependsOn: [Table, Topic]
  Table:
    Type: AWS::DynamoDB::Table
    DependsOn: Topic
    Metadata: {Note: why}
Outputs:
  QueueURL:
    Value: !Ref Queue
`
	tmpl, err := Parse([]byte(src), "/app")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got, want := tmpl.Parameters["Size"], (Parameter{Type: "Number", Default: 5}); got != want {
		t.Errorf("parameter Size: got %+v, want %+v", got, want)
	}
	if got := tmpl.Mappings["EnvConfig"]["dev"]["Memory"]; got != 128 {
		t.Errorf("mapping EnvConfig.dev.Memory: got %v, want 128", got)
	}
	wantCond := map[string]Value{"Fn::Equals": []Value{map[string]Value{"Ref": "Env"}, "prod"}}
	if got := tmpl.Conditions["IsProd"]; !reflect.DeepEqual(got, wantCond) {
		t.Errorf("condition IsProd: got %#v, want %#v", got, wantCond)
	}
	if got := tmpl.Globals["Function"]["Timeout"]; got != 10 {
		t.Errorf("Globals.Function.Timeout: got %v, want 10", got)
	}
	q := tmpl.Resources["Queue"]
	if q.Condition != "IsProd" || !reflect.DeepEqual(q.DependsOn, []string{"Table", "Topic"}) {
		t.Errorf("Queue: got Condition %q DependsOn %v, want IsProd [Table Topic]", q.Condition, q.DependsOn)
	}
	tb := tmpl.Resources["Table"]
	if !reflect.DeepEqual(tb.DependsOn, []string{"Topic"}) || tb.Metadata["Note"] != "why" || tb.LogicalID != "Table" {
		t.Errorf("Table: got %+v, want DependsOn [Topic], Metadata Note why", tb)
	}
	wantOut := map[string]Value{"Value": map[string]Value{"Ref": "Queue"}}
	if got := tmpl.Outputs["QueueURL"]; !reflect.DeepEqual(got, wantOut) {
		t.Errorf("output QueueURL: got %#v, want %#v", got, wantOut)
	}
}

func TestLoadSetsDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte("Resources:\n  Queue: {Type: AWS::SQS::Queue}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if tmpl.Dir != dir {
		t.Errorf("Dir: got %q, want %q", tmpl.Dir, dir)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("load of a missing file: got no error")
	}
}
