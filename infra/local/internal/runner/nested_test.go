package runner

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/internal/gateway"
	"github.com/go-serverless/reference/infra/local/internal/jwt"
	"github.com/go-serverless/reference/infra/local/internal/provision"
	"github.com/go-serverless/reference/infra/local/template"
)

// appRoot is a root template with a user pool and two nested applications, orders/template.yaml
// and admin/template.yaml, that tests write.
const appRoot = `
Resources:
  UserPool: {Type: AWS::Cognito::UserPool}
  UserPoolClient: {Type: AWS::Cognito::UserPoolClient}
  OrdersApp:
    Type: AWS::Serverless::Application
    Properties:
      Location: orders/template.yaml
      Parameters:
        JwtIssuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}
        JwtAudience: !Ref UserPoolClient
  AdminApp:
    Type: AWS::Serverless::Application
    Properties:
      Location: admin/template.yaml
Outputs:
  OrdersApiUrl: {Value: !GetAtt OrdersApp.Outputs.ApiUrl}
  UserPoolId: {Value: !Ref UserPool}
`

// ordersApp is a nested template whose API has a JWT authorizer and throttling; its function
// may send to its own stack's queue.
const ordersApp = `
Parameters:
  JwtIssuer: {Type: String}
  JwtAudience: {Type: CommaDelimitedList}
Resources:
  OrdersApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: UserPoolAuthorizer
        Authorizers:
          UserPoolAuthorizer:
            JwtConfiguration: {issuer: !Ref JwtIssuer, audience: !Ref JwtAudience}
      DefaultRouteSettings: {ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100}
      RouteSettings:
        "POST /orders": {ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20}
  SubmitOrderFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Policies:
        - Statement:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-orders
      Events:
        Submit: {Type: HttpApi, Properties: {ApiId: !Ref OrdersApi, Method: POST, Path: /orders}}
        Get: {Type: HttpApi, Properties: {ApiId: !Ref OrdersApi, Method: GET, Path: "/orders/{orderId}"}}
        Health: {Type: HttpApi, Properties: {ApiId: !Ref OrdersApi, Method: GET, Path: /health, Auth: {Authorizer: NONE}}}
Outputs:
  ApiUrl: {Value: !Sub "https://${OrdersApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
  StackName: {Value: !Ref AWS::StackName}
`

// adminApp is a nested template whose API has no authorizer; routes (flow mappings) are its
// function's HttpApi events.
func adminApp(routes ...string) string {
	return `
Resources:
  AdminApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: {ThrottlingRateLimit: 5, ThrottlingBurstLimit: 5}
  AdminFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
` + "        " + strings.Join(routes, "\n        ") + `
Outputs:
  ApiUrl: {Value: !Sub "https://${AdminApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}
`
}

// testAppWiring writes files into a directory, loads its template.yaml with template.LoadApp and
// provisions it without stand-ins (the templates declare none of their resources), as Start does.
func testAppWiring(t *testing.T, files map[string]string) *wiring {
	t.Helper()
	dir := t.TempDir()
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
	functions, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("functions: %v", err)
	}
	b := template.NewBindings(tmpl, "local", region)
	res, err := provision.Provision(context.Background(), provision.Clients{}, tmpl, b, provision.Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := jwt.NewIssuer(key, jwt.LocalIssuer)
	if err != nil {
		t.Fatal(err)
	}
	return &wiring{
		tmpl: tmpl, bindings: b, resources: res, functions: functions, issuer: issuer,
		invoker: &fakeInvoker{}, log: slog.New(slog.DiscardHandler), region: region, sqs: fakeSQS{},
	}
}

func TestHTTPAPIsOfNestedApplications(t *testing.T) {
	w := testAppWiring(t, map[string]string{
		"template.yaml":        appRoot,
		"orders/template.yaml": ordersApp,
		"admin/template.yaml":  adminApp(`Stats: {Type: HttpApi, Properties: {ApiId: !Ref AdminApi, Method: GET, Path: /admin/stats}}`),
	})
	api, err := w.httpAPI()
	if err != nil {
		t.Fatalf("httpAPI: %v", err)
	}
	// Functions are named after their own nested stacks.
	stacks := strings.NewReplacer(template.NestedStackName("local", "OrdersApp"), "<OrdersApp>", template.NestedStackName("local", "AdminApp"), "<AdminApp>")
	var got []routeView
	for _, v := range viewRoutes(api.Routes) {
		v.Function = stacks.Replace(v.Function)
		got = append(got, v)
	}
	want := []routeView{
		// AdminApi has no authorizer: its routes are open, with its own default throttling.
		{Key: "GET /admin/stats", Function: "<AdminApp>-AdminFunction", Throttle: "5/5"},
		{Key: "GET /orders/{orderId}", Function: "<OrdersApp>-SubmitOrderFunction", Guarded: true, Throttle: "50/100"},
		{Key: "GET /health", Function: "<OrdersApp>-SubmitOrderFunction", Throttle: "50/100"},
		{Key: "POST /orders", Function: "<OrdersApp>-SubmitOrderFunction", Guarded: true, Throttle: "10/20"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes: got\n%+v\nwant\n%+v", got, want)
	}
	if w.audience != provision.DefaultUserPoolClientID {
		t.Errorf("audience: got %q, want the root's user pool client passed down, %q", w.audience, provision.DefaultUserPoolClientID)
	}

	// Every execute-api URL, the root's output of a nested one included, is the local URL.
	const local = "http://127.0.0.1:3000"
	stack := w.outputs(w.tmpl.Outputs, local)
	if want := map[string]string{"OrdersApiUrl": local, "UserPoolId": provision.DefaultUserPoolID}; !reflect.DeepEqual(stack, want) {
		t.Errorf("root outputs: got %v, want %v", stack, want)
	}
	nested := w.outputs(w.tmpl.Apps["OrdersApp"].Outputs, local)
	if want := map[string]string{"ApiUrl": local, "StackName": template.NestedStackName("local", "OrdersApp")}; !reflect.DeepEqual(nested, want) {
		t.Errorf("OrdersApp outputs: got %v, want %v", nested, want)
	}
	if got := w.outputs(w.tmpl.Apps["AdminApp"].Outputs, local); got["ApiUrl"] != local+"/" {
		t.Errorf("AdminApp ApiUrl: got %q, want %q", got["ApiUrl"], local+"/")
	}
}

func TestHTTPAPIsRefuseOneRouteInTwoAPIs(t *testing.T) {
	w := testAppWiring(t, map[string]string{
		"template.yaml":        appRoot,
		"orders/template.yaml": ordersApp,
		"admin/template.yaml":  adminApp(`Get: {Type: HttpApi, Properties: {ApiId: !Ref AdminApi, Method: GET, Path: "/orders/{id}"}}`),
	})
	_, err := w.httpAPI()
	if err == nil || !strings.Contains(err.Error(), "route GET /orders/{orderId} of OrdersApi (function SubmitOrderFunction) and GET /orders/{id} of AdminApi (function AdminFunction)") {
		t.Errorf("got %v, want an error naming both routes, their APIs and functions", err)
	}
}

// A function of a nested application runs as the role SAM generates for it in its nested stack:
// its policies resolve there, and its identity names that role.
func TestIdentitiesOfNestedApplications(t *testing.T) {
	w := testAppWiring(t, map[string]string{
		"template.yaml":        appRoot,
		"orders/template.yaml": ordersApp,
		"admin/template.yaml":  adminApp(`Stats: {Type: HttpApi, Properties: {ApiId: !Ref AdminApi, Method: GET, Path: /admin/stats}}`),
	})
	ids, err := newIdentities(w.functions)
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.load(w.tmpl, w.bindings, w.functions, w.resources); err != nil {
		t.Fatalf("load identities: %v", err)
	}
	orders := template.NestedStackName("local", "OrdersApp")
	r := ids.byLogicalID["SubmitOrderFunction"]
	if want := "arn:aws:iam::000000000000:role/" + orders + "-SubmitOrderFunctionRole"; r.roleARN != want {
		t.Errorf("role ARN: got %q, want %q", r.roleARN, want)
	}
	if want := "arn:aws:sts::000000000000:assumed-role/" + orders + "-SubmitOrderFunctionRole/" + orders + "-SubmitOrderFunction"; r.arn != want {
		t.Errorf("assumed-role ARN: got %q, want %q", r.arn, want)
	}
	caller, _ := ids.caller("AKIASUBMITORDERFUNCTION")
	for queue, want := range map[string]bool{orders + "-orders": true, "local-orders": false} {
		allowed, _ := caller.Authorize(gateway.Access{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:000000000000:" + queue, Context: map[string][]string{"aws:SecureTransport": {"true"}}})
		if allowed != want {
			t.Errorf("send to %s: got allowed %v, want %v (the policy names its own stack's queue)", queue, allowed, want)
		}
	}
}

// outputs.json is what the end-to-end tests read: its field names are a contract.
func TestOutputsJSON(t *testing.T) {
	data, err := json.Marshal(Outputs{
		Stack:         map[string]string{"JobsApiUrl": "http://127.0.0.1:3000"},
		Nested:        map[string]map[string]string{"JobsApp": {"JobsTableName": "local-JobsApp-X-JobsTable"}},
		FunctionNames: map[string]string{"SubmitJobFunction": "local-JobsApp-X-SubmitJobFunction"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"stack":         `{"JobsApiUrl":"http://127.0.0.1:3000"}`,
		"nested":        `{"JobsApp":{"JobsTableName":"local-JobsApp-X-JobsTable"}}`,
		"functionNames": `{"SubmitJobFunction":"local-JobsApp-X-SubmitJobFunction"}`,
	} {
		if string(got[key]) != want {
			t.Errorf("%q: got %s, want %s", key, got[key], want)
		}
	}
}
