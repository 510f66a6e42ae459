package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// update rewrites the golden files from what the code makes: go test -run RootTemplate -update,
// then read the diff before committing it.
var update = flag.Bool("update", false, "rewrite testdata/root-<service>.yaml")

// testdata/root.yaml nests three applications; testdata/root-<service>.yaml is what a fork of
// each keeps, so `diff testdata/root.yaml testdata/root-<service>.yaml` shows what pruning does.
func TestPruneRootTemplate(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "root.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service, app string
		parameters   []string
	}{
		// OrdersLimit stays; BillingMode goes with LiveBilling, the condition that used it, and
		// the Conditions section with it; Unused was never used and stays.
		{"orders", "OrdersApp", []string{"Stage", "OrdersLimit", "RetentionDays", "Unused"}},
		// Location written ./services/billing/...; BillingApiMapping, which refers to it, stays.
		{"billing", "BillingApp", []string{"Stage", "RetentionDays", "BillingMode", "Unused"}},
		// The last application: the banner above the first one stays.
		{"audit", "AuditApp", []string{"Stage", "Unused"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			got, err := pruneRootTemplate(src, tt.service)
			if err != nil {
				t.Fatal(err)
			}
			if got.app != tt.app {
				t.Errorf("app: got %s, want %s", got.app, tt.app)
			}
			if !slices.Equal(got.parameters, tt.parameters) {
				t.Errorf("parameters: got %v, want %v", got.parameters, tt.parameters)
			}
			golden := filepath.Join("testdata", "root-"+tt.service+".yaml")
			if *update {
				if err := os.WriteFile(golden, got.text, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.text) != string(want) {
				t.Errorf("got:\n%s\nwant (%s):\n%s", got.text, golden, want)
			}
		})
	}
}

func TestPruneRootTemplateRefusesATemplateThatDoesNotNestTheService(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "root.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pruneRootTemplate(src, "shipping")
	if err == nil || !strings.Contains(err.Error(), "services/shipping/template.yaml") {
		t.Errorf("got error %v, want one naming services/shipping/template.yaml", err)
	}
}

// A name the pruned template still uses but no longer declares is an error, not a template
// CloudFormation refuses later.
func TestCheckPrunedRefusesADanglingReference(t *testing.T) {
	src := []byte(`Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub ${AWS::StackName}-alarms
Outputs:
  Url:
    Value: !GetAtt GoneApp.Outputs.ApiUrl
`)
	err := checkPruned(src)
	if err == nil || !strings.Contains(err.Error(), "GoneApp") {
		t.Errorf("got error %v, want one naming GoneApp", err)
	}
}

func TestNamesUsedBy(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"short Ref, pseudo parameter left out", `[!Ref Stage, !Ref AWS::Region]`, []string{"Stage"}},
		{"long forms", `{a: {Ref: Stage}, b: {"Fn::GetAtt": [Api, Arn]}, c: {"Fn::If": [IsProd, 1, 2]}}`, []string{"Stage", "Api", "IsProd"}},
		{"GetAtt with dots", `!GetAtt JobsApp.Outputs.ApiUrl`, []string{"JobsApp"}},
		{"Sub names and attributes, not its own variables or escapes", `!Sub ["${A}-${B.Arn}-${!Literal}-${V}-${AWS::StackName}", {V: !Ref C}]`, []string{"C", "A", "B"}},
		{"FindInMap, Condition and DependsOn", `{Condition: IsProd, DependsOn: [X, Y], P: !FindInMap [Jobs, Queue, Max]}`, []string{"IsProd", "X", "Y", "Jobs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			got := namesUsedBy(doc.Content[0])
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
