package provision

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

func TestGeneratedName(t *testing.T) {
	nested := template.NestedStackName("go-serverless-my-feature-branch", "ImportsApp") // 58 characters
	tests := []struct {
		name             string
		stack, logicalID string
		limit            int
		// want is the whole name when it fits; otherwise wantStart and wantID are the kept parts
		want, wantStart, wantID string
	}{
		{name: "fits: as CloudFormation's, without the random suffix", stack: "app", logicalID: "JobsQueue", limit: 80, want: "app-JobsQueue"},
		{name: "exactly the limit", stack: "app", logicalID: "Function60CharactersLongxxxxxxxxxxxxxxxxxxxxxxxxxxxx", limit: 56, want: "app-Function60CharactersLongxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{name: "a long stack gives way to the logical ID", stack: nested, logicalID: "ProcessImportFunction", limit: 64, wantStart: nested[:29], wantID: "ProcessImportFunction"},
		{name: "both long: half each", stack: nested, logicalID: "ReconcileEveryImportedOrderWithItsPaymentFunction", limit: 64, wantStart: nested[:25], wantID: "ReconcileEveryImportedOrd"},
		{name: "a short stack keeps all of its name", stack: "app", logicalID: strings.Repeat("Long", 20) + "Role", limit: 64, wantStart: "app", wantID: strings.Repeat("Long", 20)[:47]},
	}
	suffix := regexp.MustCompile(`-[A-Z2-7]{12}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := generatedName(tt.stack, tt.logicalID, tt.limit)
			if len(got) > tt.limit {
				t.Errorf("got %q, %d characters; want at most %d", got, len(got), tt.limit)
			}
			if tt.want != "" {
				if got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				return
			}
			if !suffix.MatchString(got) {
				t.Errorf("got %q, want a cut name ending in -<12-character hash>", got)
			}
			if want := strings.TrimRight(tt.wantStart, "-") + "-" + tt.wantID + "-"; !strings.HasPrefix(got, want) {
				t.Errorf("got %q, want it to start %q", got, want)
			}
			if again := generatedName(tt.stack, tt.logicalID, tt.limit); again != got {
				t.Errorf("got %q then %q, want the same name every time", got, again)
			}
		})
	}

	// Logical IDs that agree as far as a cut keeps them still get names of their own.
	a := generatedName(nested, "ReconcileEveryImportedOrderWithItsPaymentFunction", 64)
	b := generatedName(nested, "ReconcileEveryImportedOrderWithItsRefundFunction", 64)
	if a == b {
		t.Errorf("two logical IDs got the same cut name %q", a)
	}
}

// A nested application's resources are named after its nested stack, within each service's limit;
// the application itself has nothing to create.
func TestProvisionNestedApplication(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"template.yaml": `
Resources:
  RootAlarmTopic: {Type: AWS::SNS::Topic}
  HealthFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: health}}
  OrdersApp:
    Type: AWS::Serverless::Application
    Properties:
      Location: orders/template.yaml
      Parameters: {AlarmTopicArn: !Ref RootAlarmTopic}
Outputs:
  Stack: {Value: !Ref OrdersApp}
`,
		"orders/template.yaml": `
Parameters:
  AlarmTopicArn: {Type: String, Default: ""}
Conditions:
  CreateAlarmTopic: !Equals [!Ref AlarmTopicArn, ""]
Resources:
  # Its condition needs the root's topic: it is evaluated once that exists.
  OrdersAlarmTopic: {Type: AWS::SNS::Topic, Condition: CreateAlarmTopic}
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  OrdersQueue: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  OrdersBucket: {Type: AWS::S3::Bucket}
  ReconcileOrdersWithPaymentsFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: .}}
  ShipOrderFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Role: !GetAtt ShipOrderRole.Arn}
  ShipOrderRole: {Type: AWS::IAM::Role}
  OrdersLogGroup: {Type: AWS::Logs::LogGroup}
`,
	}
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := template.LoadApp(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatalf("LoadApp: %v", err)
	}
	b := template.NewBindings(tmpl, stack, "us-east-1")
	f := newFakes()
	res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}

	orders := template.NestedStackName(stack, "OrdersApp") // app-OrdersApp-<13>
	if got := res.Tables["OrdersTable"].Name; got != orders+"-OrdersTable" {
		t.Errorf("table: got %q, want %q", got, orders+"-OrdersTable")
	}
	if got := res.Queues["OrdersQueue"].Name; got != orders+"-OrdersQueue.fifo" {
		t.Errorf("queue: got %q, want %q", got, orders+"-OrdersQueue.fifo")
	}
	if got := res.Buckets["OrdersBucket"].Name; got != strings.ToLower(orders+"-OrdersBucket") {
		t.Errorf("bucket: got %q, want the lower-case %q", got, orders+"-OrdersBucket")
	}
	if got := res.Topics["RootAlarmTopic"].Name; got != "app-RootAlarmTopic" {
		t.Errorf("the root's topic: got %q, want app-RootAlarmTopic", got)
	}
	wantFunctions := map[string]string{
		"HealthFunction":                      "app-HealthFunction",
		"ReconcileOrdersWithPaymentsFunction": orders + "-ReconcileOrdersWithPaymentsFunction", // 63 characters: fits
		"ShipOrderFunction":                   orders + "-ShipOrderFunction",
	}
	if !reflect.DeepEqual(res.FunctionNames, wantFunctions) {
		t.Errorf("FunctionNames: got\n%v\nwant\n%v", res.FunctionNames, wantFunctions)
	}
	// SAM's generated roles are named like the roles the template declares; a function with its
	// own Role gets none.
	reconcileRole := generatedName(orders, "ReconcileOrdersWithPaymentsFunctionRole", maxRoleName)
	wantRoles := map[string]string{
		"HealthFunctionRole":                      "app-HealthFunctionRole",
		"ReconcileOrdersWithPaymentsFunctionRole": reconcileRole,
		"ShipOrderRole":                           orders + "-ShipOrderRole",
	}
	if !reflect.DeepEqual(res.RoleNames, wantRoles) {
		t.Errorf("RoleNames: got\n%v\nwant\n%v", res.RoleNames, wantRoles)
	}
	if len(reconcileRole) > maxRoleName || !strings.HasPrefix(reconcileRole, "app-OrdersApp-") {
		t.Errorf("generated role %q: want at most %d characters, from the nested stack's name", reconcileRole, maxRoleName)
	}
	for expr, want := range map[string]string{
		"Arn ReconcileOrdersWithPaymentsFunctionRole": "arn:aws:iam::000000000000:role/" + reconcileRole,
		"Ref OrdersLogGroup":                          orders + "-OrdersLogGroup",
		"Ref OrdersApp":                               "arn:aws:cloudformation:us-east-1:000000000000:stack/" + orders + "/00000000-0000-0000-0000-000000000000",
	} {
		what, id, _ := strings.Cut(expr, " ")
		v := ref(id)
		if what != "Ref" {
			v = att(id, what)
		}
		if got := resolve(t, b, v); got != want {
			t.Errorf("%s: got %q, want %q", expr, got, want)
		}
	}
	// A nested application has nothing to create; the topic its parent replaces is not made.
	wantSkipped := []Skipped{{LogicalID: "OrdersAlarmTopic", Type: "AWS::SNS::Topic", Reason: "condition OrdersApp.CreateAlarmTopic is false"}}
	if !reflect.DeepEqual(res.Skipped, wantSkipped) {
		t.Errorf("Skipped: got %+v, want %+v", res.Skipped, wantSkipped)
	}
}

func TestProvisionSkipsApplicationsNotFlattened(t *testing.T) {
	tmpl, b := parse(t, `
Resources:
  MonitoringApp:
    Type: AWS::Serverless::Application
    Properties:
      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
`)
	res, err := Provision(context.Background(), newFakes().clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].LogicalID != "MonitoringApp" || !strings.Contains(res.Skipped[0].Reason, "not part of the local run") {
		t.Errorf("Skipped: got %+v, want MonitoringApp, its template not part of the local run", res.Skipped)
	}
}
