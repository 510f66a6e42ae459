package template

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// sdkServicePrefix is the import path under which the AWS SDK for Go v2 keeps one module per AWS
// service: service/<name> is the client, service/<name>/types and /schemas what it sends and gets.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// configServices are the services config.LoadDefaultConfig links for its credential providers
// (assume role, IAM Identity Center, console sign-in): every function links them and calls them
// only when the environment asks for such credentials, which Lambda's never does.
var configServices = []string{"signin", "sso", "ssooidc", "sts"}

// linkedBy says which package of the SDK links a service's types although the function never
// calls the service: attributevalue converts DynamoDB Streams records too.
var linkedBy = map[string]string{"dynamodbstreams": "github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"}

// linkedServices returns, for every main package of the module in dir (by its directory), the
// AWS services whose SDK packages it links.
func linkedServices(t *testing.T, dir string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.Dir}} {{join .Deps " "}}`, "./cmd/...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/... in %s: %v", dir, err)
	}
	linked := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		deps := fields[1:]
		var services []string
		for _, dep := range deps {
			rest, ok := strings.CutPrefix(dep, sdkServicePrefix)
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, "/")
			if name == "internal" || slices.Contains(configServices, name) || slices.Contains(services, name) {
				continue
			}
			if by, ok := linkedBy[name]; ok && slices.Contains(deps, by) {
				continue
			}
			services = append(services, name)
		}
		slices.Sort(services)
		linked[fields[0]] = services
	}
	return linked
}

// lambdaCalls are the actions Lambda itself calls with a function's role, for the function's event
// sources: an SQS event source mapping receives and deletes messages, a DynamoDB stream mapping
// reads the stream. Granting them says nothing about what the function's code calls.
var lambdaCalls = []string{
	"sqs:receivemessage", "sqs:deletemessage", "sqs:getqueueattributes", "sqs:changemessagevisibility",
	"dynamodb:describestream", "dynamodb:getrecords", "dynamodb:getsharditerator", "dynamodb:liststreams",
}

// destinationCalls are the actions Lambda calls with a function's role to deliver a record to one
// of the function's destinations (EventInvokeConfig, or an event source mapping's
// DestinationConfig): they are the function's code's only when they name something else too.
var destinationCalls = []string{"sqs:sendmessage", "sns:publish"}

// destinations returns the destinations Lambda delivers to for f: OnSuccess and OnFailure of its
// EventInvokeConfig and of each event's DestinationConfig.
func destinations(f template.Function) []template.Value {
	var out []template.Value
	configs := []template.Value{valueAt(f.Properties["EventInvokeConfig"], "DestinationConfig")}
	for _, ev := range f.Events {
		configs = append(configs, ev.Properties["DestinationConfig"])
	}
	for _, c := range configs {
		for _, when := range []string{"OnSuccess", "OnFailure"} {
			if d := valueAt(c, when, "Destination"); d != nil {
				out = append(out, d)
			}
		}
	}
	return out
}

// calledServices returns the services whose actions role's identity policies allow f's code to
// call (the part of each action before the colon: dynamodb, s3, ...): every action granted, but
// those Lambda calls itself with the role (lambdaCalls, and destinationCalls on f's destinations
// alone).
func calledServices(policies []document, role string, f template.Function) map[string]bool {
	dests := destinations(f)
	isDestination := func(r template.Value) bool {
		return slices.ContainsFunc(dests, func(d template.Value) bool { return reflect.DeepEqual(d, r) })
	}
	called := map[string]bool{}
	for _, d := range policies {
		if !slices.Contains(d.governs, role) {
			continue
		}
		for _, s := range d.statements() {
			if s.denies() {
				continue
			}
			toDestinations := len(s.resources()) > 0 && !slices.ContainsFunc(s.resources(), func(r template.Value) bool { return !isDestination(r) })
			for _, a := range s.actions() {
				action, _ := a.(string)
				action = strings.ToLower(action)
				service, _, ok := strings.Cut(action, ":")
				switch {
				case !ok, slices.Contains(lambdaCalls, action):
				case toDestinations && slices.Contains(destinationCalls, action):
				default:
					called[service] = true
				}
			}
		}
	}
	return called
}

// TestFunctionsLinkOnlyWhatTheyCall: a function links the SDK of an AWS service only if its role
// lets it call that service. Every package a Go binary links is initialised at each cold start,
// called or not, and the SDK's service packages are the heaviest there are (service/lambda's
// schemas alone allocate 680 KB in init; README, "make bench"): an adapter that only some of a
// service's functions use lives in a package of its own so that the others do not pay for it.
// The role is the witness of what a function calls: least privilege grants nothing it does not,
// once the actions Lambda calls with it for the function's event sources and destinations are set
// aside.
func TestFunctionsLinkOnlyWhatTheyCall(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.LoadApp(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	policies := identityPolicies(tmpl)
	byModule := map[string]map[string][]string{}
	checked := 0
	for _, f := range fns {
		linked, ok := byModule[f.CodeURI]
		if !ok {
			linked = linkedServices(t, filepath.Join(root, f.CodeURI))
			byModule[f.CodeURI] = linked
		}
		pkg := filepath.Join(root, f.Package)
		services, ok := linked[pkg]
		if !ok {
			t.Errorf("%s: go list found no main package %s", f.LogicalID, pkg)
			continue
		}
		role, attr, ok := getAttOf(f.Properties["Role"])
		if !ok || attr != "Arn" {
			t.Errorf("%s: Role is not !GetAtt <role>.Arn", f.LogicalID)
			continue
		}
		called := calledServices(policies, role, f)
		for _, s := range services {
			if !called[s] {
				t.Errorf("%s links the SDK of %s (%s%s), which its role %s lets it call no action of (beyond what Lambda calls for its event sources and destinations): it pays for that package's initialisation at every cold start without calling it; move the adapter into a package only its callers import",
					f.LogicalID, s, sdkServicePrefix, s, role)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no function checked")
	}
}

// TestLinkedServicesSeesTheSDK keeps the check above able to fail: every main package of a service
// (the first under services/, so that a fork of one service runs it too) is seen to link an AWS
// service, and the services config links for credentials are left out.
func TestLinkedServicesSeesTheSDK(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "services", "*", "cmd"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no services/*/cmd: %v", err)
	}
	dir, err := filepath.Abs(filepath.Dir(dirs[0]))
	if err != nil {
		t.Fatal(err)
	}
	linked := linkedServices(t, dir)
	if len(linked) == 0 {
		t.Fatalf("go list found no main package in %s", dir)
	}
	for pkg, services := range linked {
		// Every function of this repository calls at least one AWS service (a table, a bucket).
		if len(services) == 0 {
			t.Errorf("%s links no AWS service, by linkedServices; every function calls one", pkg)
		}
		for _, s := range configServices {
			if slices.Contains(services, s) {
				t.Errorf("%s links %v; want %s left out (config's credential providers)", pkg, services, s)
			}
		}
	}
}

// TestCalledServicesSetsLambdasOwnCallsAside keeps the check able to see a queue consumer or an
// asynchronously invoked function that links SQS: what Lambda calls with its role for the event
// source and the failure destination is not the code's, a send to any other queue is.
func TestCalledServicesSetsLambdasOwnCallsAside(t *testing.T) {
	const src = `
Resources:
  Work: {Type: AWS::SQS::Queue}
  Failed: {Type: AWS::SQS::Queue}
  Other: {Type: AWS::SQS::Queue}
  Table: {Type: AWS::DynamoDB::Table}
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Role: !GetAtt WorkRole.Arn
      EventInvokeConfig:
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Failed.Arn}
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt Work.Arn}}
  WorkRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: work
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes], Resource: !GetAtt Work.Arn}
              - {Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Failed.Arn}
              - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn}
`
	called := func(extra string) map[string]bool {
		tmpl := parse(t, src+extra)
		fns, err := tmpl.Functions()
		if err != nil || len(fns) != 1 {
			t.Fatalf("functions: %v, %v", fns, err)
		}
		return calledServices(identityPolicies(tmpl), "WorkRole", fns[0])
	}
	if got := called(""); !got["dynamodb"] || got["sqs"] || len(got) != 1 {
		t.Errorf("called services = %v; want dynamodb alone (receiving from the event source and sending to the failure destination are Lambda's)", got)
	}
	if got := called("              - {Effect: Allow, Action: sqs:SendMessage, Resource: [!GetAtt Failed.Arn, !GetAtt Other.Arn]}\n"); !got["sqs"] {
		t.Errorf("called services = %v; want sqs too (a send to a queue that is no destination is the code's)", got)
	}
}
