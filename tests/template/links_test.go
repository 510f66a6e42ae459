package template

import (
	"fmt"
	"os/exec"
	"path/filepath"
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

// grantedServices returns the services whose actions role's identity policies allow (the part
// of each action before the colon): xray, logs, dynamodb, ...
func grantedServices(policies []document, role string) map[string]bool {
	granted := map[string]bool{}
	for _, d := range policies {
		if !slices.Contains(d.governs, role) {
			continue
		}
		for _, s := range d.statements() {
			if s.denies() {
				continue
			}
			for _, a := range s.actions() {
				action, _ := a.(string)
				if service, _, ok := strings.Cut(action, ":"); ok {
					granted[strings.ToLower(service)] = true
				}
			}
		}
	}
	return granted
}

// TestFunctionsLinkOnlyWhatTheyCall: a function links the SDK of an AWS service only if its role
// lets it call that service. Every package a Go binary links is initialised at each cold start,
// called or not, and the SDK's service packages are the heaviest there are (service/lambda's
// schemas alone allocate 680 KB in init; README, Performance): an adapter that only some of a
// service's functions use lives in a package of its own so that the others do not pay for it.
// The role is the witness of what a function calls: least privilege grants nothing it does not.
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
		granted := grantedServices(policies, role)
		for _, s := range services {
			if !granted[s] {
				t.Errorf("%s links the SDK of %s (%s%s), which its role %s grants no action on: it pays for that package's initialisation at every cold start without calling it; move the adapter into a package only its callers import",
					f.LogicalID, s, sdkServicePrefix, s, role)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no function checked")
	}
}

// TestLinkedServicesSeesTheSDK keeps the check above able to fail: a main package that builds an
// SQS client is seen to link sqs, and the services config links for credentials are left out.
func TestLinkedServicesSeesTheSDK(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "services", "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	linked := linkedServices(t, dir)
	got := linked[filepath.Join(dir, "cmd", "submit-job")]
	if !slices.Contains(got, "sqs") || !slices.Contains(got, "dynamodb") {
		t.Errorf("submit-job links %v; want dynamodb and sqs among them", got)
	}
	for _, s := range configServices {
		if slices.Contains(got, s) {
			t.Errorf("submit-job links %v; want %s left out (config's credential providers)", got, s)
		}
	}
	if len(linked) < 3 {
		t.Errorf("go list found %d main packages in services/jobs, want 3: %v", len(linked), fmt.Sprint(linked))
	}
}
