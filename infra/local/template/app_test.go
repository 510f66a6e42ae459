package template

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// loadFixtureApp loads testdata/app and binds it as the stack "shop" in eu-west-1, each resource
// given a recognisable local value.
func loadFixtureApp(t *testing.T) (*Template, *Bindings) {
	t.Helper()
	tmpl, err := LoadApp(filepath.Join("testdata", "app", "template.yaml"))
	if err != nil {
		t.Fatalf("LoadApp: %v", err)
	}
	b := NewBindings(tmpl, "shop", "eu-west-1")
	b.SetRef("UserPool", "eu-west-1_pool")
	b.SetRef("AlarmTopic", "arn:aws:sns:eu-west-1:000000000000:shop-alarms")
	b.SetRef("OrdersApi", "abc123")
	b.SetRef("OrdersTable", "orders-table")
	b.SetRef("OrdersAlarmTopic", "arn:aws:sns:eu-west-1:000000000000:orders-alarms")
	b.SetRef("BillingTopic", "arn:aws:sns:eu-west-1:000000000000:billing")
	b.SetAtt("AuditQueue", "QueueName", "audit-queue")
	return tmpl, b
}

func TestLoadAppRecordsStacksAndApps(t *testing.T) {
	tmpl, _ := loadFixtureApp(t)
	wantStacks := map[string]string{
		"UserPool": "", "AlarmTopic": "", "HealthFunction": "", "OrdersApp": "", "BillingApp": "",
		"OrdersApi": "OrdersApp", "OrdersTable": "OrdersApp", "OrdersAlarmTopic": "OrdersApp", "OrdersFunction": "OrdersApp",
		"BillingTopic": "BillingApp", "BillingFunction": "BillingApp", "AuditApp": "BillingApp",
		"AuditQueue": "BillingApp.AuditApp",
	}
	gotStacks := map[string]string{}
	for id, r := range tmpl.Resources {
		gotStacks[id] = r.Stack
	}
	if !reflect.DeepEqual(gotStacks, wantStacks) {
		t.Errorf("resources by stack: got\n%v\nwant\n%v", gotStacks, wantStacks)
	}

	wantApps := map[string]string{
		"OrdersApp":           "services/orders/template.yaml",
		"BillingApp":          "services/billing/template.yaml",
		"BillingApp.AuditApp": "services/billing/audit/template.yaml",
	}
	gotApps := map[string]string{}
	for path, app := range tmpl.Apps {
		if app.Path != path {
			t.Errorf("app %s: got Path %q", path, app.Path)
		}
		gotApps[path] = app.Location
	}
	if !reflect.DeepEqual(gotApps, wantApps) {
		t.Errorf("apps: got %v, want %v", gotApps, wantApps)
	}
	if got := tmpl.Resources["AuditApp"].Properties["Location"]; got != "services/billing/audit/template.yaml" {
		t.Errorf("AuditApp Location: got %v, want it relative to the root's directory", got)
	}

	// Conditions and mappings of a nested template are renamed; the root's keep their names.
	for _, name := range []string{"IsProd", "OrdersApp.IsProd", "OrdersApp.CreateAlarmTopic"} {
		if _, ok := tmpl.Conditions[name]; !ok {
			t.Errorf("no condition %s among %v", name, sortedKeys(tmpl.Conditions))
		}
	}
	if got := tmpl.Resources["OrdersAlarmTopic"].Condition; got != "OrdersApp.CreateAlarmTopic" {
		t.Errorf("OrdersAlarmTopic Condition: got %q, want OrdersApp.CreateAlarmTopic", got)
	}
	if _, ok := tmpl.Mappings["OrdersApp.Limits"]; !ok || len(tmpl.Mappings) != 1 {
		t.Errorf("mappings: got %v, want OrdersApp.Limits only", sortedKeys(tmpl.Mappings))
	}
	if got := sortedKeys(tmpl.Outputs); !reflect.DeepEqual(got, []string{"BillingTopicArn", "OrdersApiUrl", "StackName"}) {
		t.Errorf("outputs: got %v, want the root's", got)
	}

	// Load reads one file as written: the applications stay applications.
	single, err := Load(filepath.Join("testdata", "app", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := single.Resources["OrdersTable"]; ok || len(single.Apps) != 0 {
		t.Errorf("Load flattened the nested applications")
	}
}

func TestLoadAppGlobalsAndCodeURI(t *testing.T) {
	tmpl, b := loadFixtureApp(t)
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("functions: %v", err)
	}
	type view struct {
		Stack, CodeURI, Package string
		Timeout                 time.Duration
		Variables               []string
	}
	got := map[string]view{}
	for _, fn := range fns {
		got[fn.LogicalID] = view{fn.Stack, fn.CodeURI, fn.Package, fn.Timeout, sortedKeys(fn.Environment)}
	}
	want := map[string]view{
		// The root's Globals apply to the root's functions only; a nested template's to its own.
		"HealthFunction": {"", "services/health", "services/health/cmd/health", 20 * time.Second, []string{"FROM_ROOT_GLOBALS"}},
		"OrdersFunction": {"OrdersApp", "services/orders", "services/orders/cmd/orders", 10 * time.Second,
			[]string{"ALARMS", "ISSUER", "LIMIT", "MAX_ITEMS", "ORIGINS", "PROD", "STACK_ID", "STAGE", "TABLE", "WHERE"}},
		"BillingFunction": {"BillingApp", "services/billing", "services/billing/cmd/billing", 3 * time.Second, []string{"AUDIT_QUEUE", "ORDERS"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions: got\n%+v\nwant\n%+v", got, want)
	}
	// Globals that name a nested template's parameter read the value its parent passes.
	for _, fn := range fns {
		if fn.LogicalID != "OrdersFunction" {
			continue
		}
		if stage, err := b.ResolveString(fn.Environment["STAGE"]); err != nil || stage != "dev" {
			t.Errorf("STAGE from the nested Globals: got %q, %v; want dev", stage, err)
		}
	}
}

func TestLoadAppResolves(t *testing.T) {
	tmpl, b := loadFixtureApp(t)
	orders := NestedStackName("shop", "OrdersApp")
	billing := NestedStackName("shop", "BillingApp")
	audit := NestedStackName(billing, "AuditApp")
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"parameter passed as an expression", env(tmpl, "OrdersFunction", "ISSUER"), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"},
		{"list parameter passed joined", env(tmpl, "OrdersFunction", "ORIGINS"), "https://a.example|https://b.example"},
		{"parameter left at its default, as a string", env(tmpl, "OrdersFunction", "MAX_ITEMS"), "10"},
		{"FindInMap of a renamed mapping, keyed by a parameter", env(tmpl, "OrdersFunction", "LIMIT"), "5"},
		{"a nested condition over a passed parameter", env(tmpl, "OrdersFunction", "ALARMS"), "arn:aws:sns:eu-west-1:000000000000:shop-alarms"},
		{"a nested condition named as a root one", env(tmpl, "OrdersFunction", "PROD"), "false"},
		{"Sub with the nested stack's name and a parameter", env(tmpl, "OrdersFunction", "WHERE"), orders + "/dev"},
		{"the nested stack's id", env(tmpl, "OrdersFunction", "STACK_ID"), "arn:aws:cloudformation:eu-west-1:000000000000:stack/" + orders + "/00000000-0000-0000-0000-000000000000"},
		{"a parameter from another application's output", env(tmpl, "BillingFunction", "ORDERS"), "orders-table"},
		{"GetAtt of a nested application's output", env(tmpl, "BillingFunction", "AUDIT_QUEUE"), "audit-queue"},
		{"two levels deep, with the parent's stack name passed", tmpl.Resources["AuditQueue"].Properties["QueueName"], billing + "-audit-" + audit},
		{"the root's AWS::StackName", tmpl.Resources["AlarmTopic"].Properties["TopicName"], "shop-alarms"},
		{"a nested one's", tmpl.Resources["OrdersAlarmTopic"].Properties["TopicName"], orders + "-alarms"},
		{"root output from GetAtt <App>.Outputs", output(tmpl.Outputs, "OrdersApiUrl"), "https://abc123.execute-api.eu-west-1.amazonaws.com"},
		{"root output from Sub ${<App>.Outputs.<Key>}", output(tmpl.Outputs, "BillingTopicArn"), "arn:aws:sns:eu-west-1:000000000000:billing"},
		{"root output of its own stack name", output(tmpl.Outputs, "StackName"), "shop"},
		{"a nested application's output", output(tmpl.Apps["OrdersApp"].Outputs, "TableName"), "orders-table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.ResolveString(tt.v)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	if ok, err := b.Condition("OrdersApp.CreateAlarmTopic"); err != nil || ok {
		t.Errorf("OrdersApp.CreateAlarmTopic: got %v, %v; want false: the root passes its topic", ok, err)
	}
	if c, _ := tmpl.Apps["OrdersApp"].Outputs["AlarmTopicArn"].(map[string]Value); c["Condition"] != "OrdersApp.CreateAlarmTopic" {
		t.Errorf("output condition: got %v, want OrdersApp.CreateAlarmTopic", c["Condition"])
	}
	// Overriding a root parameter reaches the nested templates through what the root passes.
	if err := b.SetParameter("Stage", "prod"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"LIMIT": "50", "PROD": "true", "WHERE": orders + "/prod"} {
		if got, err := b.ResolveString(env(tmpl, "OrdersFunction", name)); err != nil || got != want {
			t.Errorf("%s with Stage=prod: got %q, %v; want %q", name, got, err, want)
		}
	}
	// References leave pseudo parameters out, a nested stack's included.
	if got := References(tmpl.Resources["OrdersAlarmTopic"].Properties); len(got) != 0 {
		t.Errorf("References of a topic named after its stack: got %v, want none", got)
	}
}

// env returns the value of a function's environment variable as the template holds it.
func env(tmpl *Template, function, name string) Value {
	props := tmpl.WithGlobals(tmpl.Resources[function])
	vars, _ := props["Environment"].(map[string]Value)["Variables"].(map[string]Value)
	return vars[name]
}

// output returns the Value of an output.
func output(outputs map[string]Value, name string) Value {
	m, _ := outputs[name].(map[string]Value)
	return m["Value"]
}

func TestLoadAppRefuses(t *testing.T) {
	// child is a nested template declaring ChildTable, with extra lines under Resources.
	child := func(resources string) string {
		return "Parameters:\n  Stage: {Type: String}\n  Origins: {Type: CommaDelimitedList, Default: a}\nResources:\n  ChildTable: {Type: AWS::DynamoDB::Table}\n" + resources +
			"Outputs:\n  TableName: {Value: !Ref ChildTable}\n"
	}
	// root declares RootTopic and ChildApp with the given parameters (a flow mapping).
	root := func(params, rest string) string {
		return "Parameters:\n  Origins: {Type: CommaDelimitedList, Default: a}\nResources:\n  RootTopic: {Type: AWS::SNS::Topic}\n" +
			"  ChildApp:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n      Parameters: " + params + "\n" + rest
	}
	tests := []struct {
		name  string
		files map[string]string // an empty key is a fixture directory under testdata instead
		want  []string
	}{
		{
			name:  "a logical ID in two templates",
			files: map[string]string{"": "duplicate"},
			want:  []string{"logical ID SharedTable is declared by both first.yaml and second.yaml", "unique across the application"},
		},
		{
			name:  "a parameter without default the parent does not pass",
			files: map[string]string{"": "missing-parameter"},
			want:  []string{"template.yaml: nested application OrdersApp passes no parameter Issuer, which orders.yaml requires"},
		},
		{
			name:  "a parameter the nested template does not declare",
			files: map[string]string{"template.yaml": root("{Stage: dev, Colour: blue}", ""), "child.yaml": child("")},
			want:  []string{"passes parameter Colour, which child.yaml does not declare"},
		},
		{
			name:  "a list passed as a list",
			files: map[string]string{"template.yaml": root("{Stage: dev, Origins: !Ref Origins}", ""), "child.yaml": child("")},
			want:  []string{"parameter Origins is a list, and a nested stack's parameters are strings"},
		},
		{
			name:  "a parent that refers to a nested template's resource",
			files: map[string]string{"template.yaml": root("{Stage: dev}", "Outputs:\n  T: {Value: !Ref ChildTable}\n"), "child.yaml": child("")},
			want:  []string{"output T: Ref ChildTable: ChildTable is declared by child.yaml, and a template refers only to its own resources"},
		},
		{
			name: "a nested template that refers to its parent's resource in a Sub",
			files: map[string]string{"template.yaml": root("{Stage: dev}", ""),
				"child.yaml": child("  ChildQueue: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub \"${RootTopic.TopicName}-q\"}}\n")},
			want: []string{"child.yaml: resource ChildQueue: Fn::Sub ${RootTopic.TopicName}: RootTopic is declared by template.yaml"},
		},
		{
			name:  "an output the nested template does not declare",
			files: map[string]string{"template.yaml": root("{Stage: dev}", "Outputs:\n  T: {Value: !GetAtt ChildApp.Outputs.Nope}\n"), "child.yaml": child("")},
			want:  []string{"Fn::GetAtt ChildApp.Outputs.Nope: the template of ChildApp declares no output Nope"},
		},
		{
			name:  "a nested template that nests itself",
			files: map[string]string{"template.yaml": root("{Stage: dev}", ""), "child.yaml": child("  AgainApp: {Type: AWS::Serverless::Application, Properties: {Location: child.yaml}}\n")},
			want:  []string{"child.yaml nests itself"},
		},
		{
			name: "the implicit HTTP API in two templates",
			files: map[string]string{
				"template.yaml": root("{Stage: dev}", "  RootFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: ., Events: {Get: {Type: HttpApi, Properties: {Path: /a, Method: GET}}}}}\n"),
				"child.yaml":    child("  ChildFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: ., Events: {Get: {Type: HttpApi, Properties: {Path: /b, Method: GET}}}}}\n"),
			},
			want: []string{"logical ID ServerlessHttpApi is declared by both template.yaml and child.yaml"},
		},
		{
			name:  "a nested template's resource named as a root parameter",
			files: map[string]string{"template.yaml": root("{Stage: dev}", ""), "child.yaml": child("  Origins: {Type: AWS::SNS::Topic}\n")},
			want:  []string{"logical ID Origins of child.yaml is also a parameter of template.yaml"},
		},
		{
			name: "a nested application with a Condition",
			files: map[string]string{"template.yaml": "Conditions:\n  No: !Equals [a, b]\nResources:\n  ChildApp: {Type: AWS::Serverless::Application, Condition: No, Properties: {Location: child.yaml}}\n",
				"child.yaml": child("")},
			want: []string{"nested application ChildApp has a Condition"},
		},
		{
			name:  "a nested template that does not exist",
			files: map[string]string{"template.yaml": root("{Stage: dev}", "")},
			want:  []string{"nested application ChildApp of template.yaml", "child.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", tt.files[""])
			if tt.files[""] == "" {
				dir = t.TempDir()
				for name, src := range tt.files {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := LoadApp(filepath.Join(dir, "template.yaml"))
			if err == nil {
				t.Fatalf("LoadApp: got no error, want one saying %q", tt.want)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to say %q", err, want)
				}
			}
		})
	}
}

func TestLoadAppLeavesRemoteApplications(t *testing.T) {
	tmpl := mustLoadApp(t, map[string]string{"template.yaml": `
Resources:
  MonitoringApp:
    Type: AWS::Serverless::Application
    Properties:
      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
  Topic: {Type: AWS::SNS::Topic}
Outputs:
  Dashboard: {Value: !GetAtt MonitoringApp.Outputs.Url}
`})
	if len(tmpl.Apps) != 0 || tmpl.Resources["MonitoringApp"].Type != TypeApplication {
		t.Errorf("got apps %v and MonitoringApp %v, want the application left as it is", tmpl.Apps, tmpl.Resources["MonitoringApp"])
	}
	want := map[string]Value{"Fn::GetAtt": []Value{"MonitoringApp", "Outputs.Url"}}
	if got := output(tmpl.Outputs, "Dashboard"); !reflect.DeepEqual(got, want) {
		t.Errorf("output: got %v, want %v", got, want)
	}
}

// mustLoadApp writes files into a temporary directory and loads its template.yaml with LoadApp.
func mustLoadApp(t *testing.T, files map[string]string) *Template {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := LoadApp(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatalf("LoadApp: %v", err)
	}
	return tmpl
}

func TestNestedStackName(t *testing.T) {
	shape := regexp.MustCompile(`^shop-OrdersApp-[A-Z0-9]{13}$`)
	name := NestedStackName("shop", "OrdersApp")
	if !shape.MatchString(name) {
		t.Errorf("got %q, want <parent>-<app>-<13 upper-case letters and digits>", name)
	}
	if again := NestedStackName("shop", "OrdersApp"); again != name {
		t.Errorf("got %q then %q, want the same name every time", name, again)
	}
	for _, other := range []string{NestedStackName("shop2", "OrdersApp"), NestedStackName("shop", "BillingApp")} {
		if other[len(other)-13:] == name[len(name)-13:] {
			t.Errorf("%s and %s share a suffix: it must depend on the parent and the application", name, other)
		}
	}
	long := strings.Repeat("p", 120)
	a, b := NestedStackName(long, "OrdersApp"), NestedStackName(long, "OrdersApi")
	if len(a) != 128 || len(b) != 128 || a == b || !strings.HasPrefix(a, long[:114]+"-") {
		t.Errorf("long parent: got %q (%d) and %q (%d), want two names of 128 characters, cut before the suffix", a, len(a), b, len(b))
	}
}

func TestStackNameOf(t *testing.T) {
	tmpl, b := loadFixtureApp(t)
	billing := NestedStackName("shop", "BillingApp")
	for stack, want := range map[string]string{"": "shop", "BillingApp": billing, "BillingApp.AuditApp": NestedStackName(billing, "AuditApp")} {
		if got := b.StackNameOf(stack); got != want {
			t.Errorf("StackNameOf(%q): got %q, want %q", stack, got, want)
		}
	}
	if _, err := b.Resolve(map[string]Value{"Ref": "NoSuchApp.AWS::StackName"}); err == nil || !strings.Contains(err.Error(), "no nested application NoSuchApp") {
		t.Errorf("Ref of an unknown application's stack name: got %v, want an error naming it", err)
	}
	if got := NewBindings(tmpl, "", "").StackNameOf("BillingApp"); got != "" {
		t.Errorf("StackNameOf without a stack name: got %q, want \"\"", got)
	}
}
