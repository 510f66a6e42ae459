package template

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// parse reads an inline template with the project's parser.
func parse(t *testing.T, src string) *template.Template {
	t.Helper()
	tmpl, err := template.Parse([]byte(src), t.TempDir())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return tmpl
}

// valueOf parses a YAML value (short-form tags allowed) the way the parser reads a property.
func valueOf(t *testing.T, expr string) template.Value {
	t.Helper()
	tmpl := parse(t, "Resources:\n  R:\n    Type: Test::Thing\n    Properties:\n      V: "+expr+"\n")
	return tmpl.Resources["R"].Properties["V"]
}

func TestRefersTo(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`!Ref Queue`, []string{"Queue"}},
		{`!GetAtt Queue.Arn`, []string{"Queue"}},
		{`!GetAtt [Queue, Arn]`, []string{"Queue"}},
		{`!Sub "${Table.Arn}/index/${IndexName}"`, []string{"IndexName", "Table"}},
		{`!Sub ["${A}-${Stage}", {A: !Ref Bucket}]`, []string{"Bucket", "Stage"}},
		{`!Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"`, []string{}},
		{`!Sub "${!Literal}"`, []string{}},
		{`!Ref AWS::Region`, []string{}},
		{`[!Ref A, {Key: !GetAtt B.Arn}]`, []string{"A", "B"}},
		{`!If [IsProd, !GetAtt Prod.Arn, !Ref AWS::NoValue]`, []string{"Prod"}},
		{`"arn:aws:sqs:us-east-1:123456789012:q"`, []string{}},
	}
	for _, tt := range tests {
		if got := refersTo(valueOf(t, tt.expr)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("refersTo(%s): got %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestResourcesIn(t *testing.T) {
	tmpl := parse(t, `
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Jobs: {Type: "AWS::SQS::Queue"}
  Table: {Type: "AWS::DynamoDB::Table"}
`)
	tests := []struct {
		expr  string
		types []string
		want  []string
	}{
		{`!Sub "${Table.Arn}-${Stage}-${Jobs}"`, nil, []string{"Jobs", "Table"}},
		{`!Sub "${Table.Arn}-${Stage}-${Jobs}"`, []string{typeQueue}, []string{"Jobs"}},
		{`!Ref Stage`, nil, nil},
		{`!GetAtt Missing.Arn`, nil, nil},
	}
	for _, tt := range tests {
		if got := resourcesIn(tmpl, valueOf(t, tt.expr), tt.types...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("resourcesIn(%s, %q): got %q, want %q", tt.expr, tt.types, got, tt.want)
		}
	}
}

func TestRefOfAndGetAttOf(t *testing.T) {
	tests := []struct {
		expr         string
		ref          string
		getAtt, attr string
	}{
		{`!Ref Queue`, "Queue", "", ""},
		{`!GetAtt Queue.QueueName`, "", "Queue", "QueueName"},
		{`!GetAtt [Queue, Arn]`, "", "Queue", "Arn"},
		{`!Sub "${Queue}"`, "", "", ""},
		{`Queue`, "", "", ""},
		{`{Ref: Queue, Other: x}`, "", "", ""},
	}
	for _, tt := range tests {
		v := valueOf(t, tt.expr)
		ref, _ := refOf(v)
		id, attr, _ := getAttOf(v)
		if ref != tt.ref || id != tt.getAtt || attr != tt.attr {
			t.Errorf("%s: got refOf %q, getAttOf %q.%q; want %q, %q.%q", tt.expr, ref, id, attr, tt.ref, tt.getAtt, tt.attr)
		}
	}
}

func TestFindInMapOf(t *testing.T) {
	tests := []struct {
		expr string
		want string // "map/top/second", "" when not a plain FindInMap
	}{
		{`!FindInMap [Jobs, Queue, MaxReceiveCount]`, "Jobs/Queue/MaxReceiveCount"},
		{`{"Fn::FindInMap": [Jobs, Queue, MaxReceiveCount]}`, "Jobs/Queue/MaxReceiveCount"},
		{`!FindInMap [Jobs, !Ref Stage, MaxReceiveCount]`, ""},
		{`!FindInMap [Jobs, Queue]`, ""},
		{`3`, ""},
		{`!Ref Queue`, ""},
	}
	for _, tt := range tests {
		m, top, second, ok := findInMapOf(valueOf(t, tt.expr))
		got := ""
		if ok {
			got = m + "/" + top + "/" + second
		}
		if got != tt.want {
			t.Errorf("findInMapOf(%s): got %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	v := valueOf(t, `{Auth: {DefaultAuthorizer: Jwt, Ref: x}, Config: !Ref Param, JwtConfiguration: {Issuer: i}}`)
	if got, ok := lookup(v, "Auth", "DefaultAuthorizer"); !ok || got != "Jwt" {
		t.Errorf("Auth.DefaultAuthorizer: got %v, %v; want Jwt, true", got, ok)
	}
	if _, ok := lookup(v, "Auth", "Missing"); ok {
		t.Error("Auth.Missing: got found, want missing")
	}
	if _, ok := lookup(v, "Config", "Anything"); ok {
		t.Error("Config.Anything: got found inside an intrinsic, want missing")
	}
	cfg, _ := lookup(v, "JwtConfiguration")
	if got, ok := lookupFold(cfg, "issuer"); !ok || got != "i" {
		t.Errorf("lookupFold issuer: got %v, %v; want i, true", got, ok)
	}
	if got := stringAt(v, "Config"); got != "" {
		t.Errorf("stringAt of an intrinsic: got %q, want empty", got)
	}
}

func TestAsList(t *testing.T) {
	tests := []struct {
		expr string
		want int
	}{
		{`sqs:SendMessage`, 1},
		{`[sqs:SendMessage, sqs:DeleteMessage]`, 2},
		{`!GetAtt Queue.Arn`, 1},
		{`[]`, 0},
		{`null`, 0},
	}
	for _, tt := range tests {
		if got := asList(valueOf(t, tt.expr)); len(got) != tt.want {
			t.Errorf("asList(%s): got %d elements, want %d", tt.expr, len(got), tt.want)
		}
	}
}

func TestShow(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`x`, `"x"`},
		{`!Ref Queue`, `!Ref Queue`},
		{`!GetAtt Queue.Arn`, `!GetAtt Queue.Arn`},
		{`!Sub "${Table.Arn}/*"`, `!Sub "${Table.Arn}/*"`},
		{`[arm64]`, `["arm64"]`},
		{`!FindInMap [A, B, C]`, `!FindInMap [A, B, C]`},
		{`!FindInMap [A, !Ref B, C]`, `{"Fn::FindInMap":["A",{"Ref":"B"},"C"]}`},
	}
	for _, tt := range tests {
		if got := show(valueOf(t, tt.expr)); got != tt.want {
			t.Errorf("show(%s): got %s, want %s", tt.expr, got, tt.want)
		}
	}
}

func TestIntOf(t *testing.T) {
	tmpl := parse(t, `
Parameters:
  Days: {Type: Number, Default: 14}
Mappings:
  Jobs: {Queue: {MaxReceiveCount: 3}}
Resources:
  Queue: {Type: "AWS::SQS::Queue"}
`)
	tests := []struct {
		expr    string
		want    int
		wantErr bool
	}{
		{`180`, 180, false},
		{`"180"`, 180, false},
		{`!Ref Days`, 14, false},
		{`!FindInMap [Jobs, Queue, MaxReceiveCount]`, 3, false},
		{`!GetAtt Queue.Arn`, 0, true},
		{`three`, 0, true},
	}
	for _, tt := range tests {
		got, err := intOf(tmpl, valueOf(t, tt.expr))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("intOf(%s): got %d, %v; want %d, error %v", tt.expr, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestWithGlobals(t *testing.T) {
	tmpl := parse(t, `
Globals:
  HttpApi:
    Auth: {DefaultAuthorizer: Jwt}
    DefaultRouteSettings: {ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5}
    Tags: [a]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: {ThrottlingRateLimit: 1}
      Tags: [b]
`)
	got := withGlobals(tmpl, "HttpApi", tmpl.Resources["Api"])
	want := map[string]template.Value{
		"Auth":                 map[string]template.Value{"DefaultAuthorizer": "Jwt"},
		"DefaultRouteSettings": map[string]template.Value{"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 1},
		"Tags":                 []template.Value{"a", "b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := tmpl.Globals["HttpApi"]["DefaultRouteSettings"].(map[string]template.Value)["ThrottlingRateLimit"]; !ok {
		t.Error("merging changed Globals")
	}
}

func TestWalk(t *testing.T) {
	v := valueOf(t, `{B: [x, !Join ["", [a]]], A: 1}`)
	var paths []string
	walk(v, "Properties", func(path string, _ template.Value) { paths = append(paths, path) })
	want := "Properties Properties.A Properties.B Properties.B[0] Properties.B[1] Properties.B[1].Fn::Join Properties.B[1].Fn::Join[0] Properties.B[1].Fn::Join[1] Properties.B[1].Fn::Join[1][0]"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("got paths %s, want %s", got, want)
	}
}

func TestRouteKey(t *testing.T) {
	tests := []struct {
		props map[string]template.Value
		want  string
	}{
		{map[string]template.Value{"Method": "post", "Path": "/jobs"}, "POST /jobs"},
		{map[string]template.Value{"Method": "GET", "Path": "/jobs/{jobId}"}, "GET /jobs/{jobId}"},
		{map[string]template.Value{"Path": "/any"}, "ANY /any"},
		{map[string]template.Value{}, "$default"},
	}
	for _, tt := range tests {
		if got := routeKey(template.Event{Type: "HttpApi", Properties: tt.props}); got != tt.want {
			t.Errorf("routeKey(%v): got %q, want %q", tt.props, got, tt.want)
		}
	}
}
