package template

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// subReference is a ${...} reference in an Fn::Sub string.
var subReference = regexp.MustCompile(`\$\{[^}]+\}`)

// goStringLiteral is a double-quoted Go string literal without escapes.
var goStringLiteral = regexp.MustCompile(`"([^"\\\n]*)"`)

// codeLiterals returns every string literal in the non-test Go files under dir.
func codeLiterals(t *testing.T, dir string) map[string]bool {
	t.Helper()
	literals := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range goStringLiteral.FindAllStringSubmatch(string(src), -1) {
			literals[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatalf("read Go files under %s: %v", dir, err)
	}
	return literals
}

// checkDashboards returns what is wrong with the dashboards of tmpl, the template of service svc
// whose code is summed up by literals: it must have exactly one AWS::CloudWatch::Dashboard, named
// ${AWS::StackName}-<svc>, whose body (an Fn::Sub string) is JSON once its references are
// substituted, and every business metric it graphs (a namespace under GoServerless/) must be
// written by the service's code: its namespace and name are string literals there. A dashboard
// naming a metric nobody emits shows an empty graph, which reads as "nothing happened".
func checkDashboards(tmpl *template.Template, svc string, literals map[string]bool) []string {
	var out []string
	var dashboards []template.Resource
	for _, r := range tmpl.Resources {
		if r.Type == "AWS::CloudWatch::Dashboard" {
			dashboards = append(dashboards, r)
		}
	}
	if len(dashboards) != 1 {
		return []string{fmt.Sprintf("Resources: %d AWS::CloudWatch::Dashboard resources, want 1", len(dashboards))}
	}
	d := dashboards[0]
	if want := map[string]any{"Fn::Sub": "${AWS::StackName}-" + svc}; fmt.Sprint(d.Properties["DashboardName"]) != fmt.Sprint(want) {
		out = append(out, fmt.Sprintf("%s: DashboardName is %v, want !Sub ${AWS::StackName}-%s", d.LogicalID, d.Properties["DashboardName"], svc))
	}
	sub, _ := d.Properties["DashboardBody"].(map[string]any)
	text, ok := sub["Fn::Sub"].(string)
	if !ok {
		return append(out, fmt.Sprintf("%s: DashboardBody is not !Sub of a JSON string", d.LogicalID))
	}
	var body struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(subReference.ReplaceAllString(text, "x")), &body); err != nil {
		return append(out, fmt.Sprintf("%s: DashboardBody is not JSON: %v", d.LogicalID, err))
	}
	for _, w := range body.Widgets {
		for _, row := range w.Properties.Metrics {
			if len(row) < 2 {
				continue // a math expression: {"expression": ...}
			}
			namespace, _ := row[0].(string)
			name, _ := row[1].(string)
			if !strings.HasPrefix(namespace, "GoServerless/") {
				continue
			}
			if !literals[namespace] || !literals[name] {
				out = append(out, fmt.Sprintf("%s: graphs %s %s, which the code of services/%s never names", d.LogicalID, namespace, name, svc))
			}
		}
	}
	return out
}

func TestDashboardsGraphOnlyEmittedMetrics(t *testing.T) {
	services, err := filepath.Glob("../../services/*/template.yaml")
	if err != nil || len(services) == 0 {
		t.Fatalf("list services/*/template.yaml: %v (found %d)", err, len(services))
	}
	for _, path := range services {
		dir := filepath.Dir(path)
		svc := filepath.Base(dir)
		if got := checkDashboards(load(t, path), svc, codeLiterals(t, dir)); len(got) != 0 {
			t.Errorf("%s:\n%s", path, strings.Join(got, "\n"))
		}
	}

	// The broken fixtures: a metric no code emits, and a body that is not JSON. Their "code" is
	// one literal, so they need no service folder (a fork has only its own).
	literals := map[string]bool{"JobsSubmitted": true}
	for fixture, want := range map[string]string{
		"dashboard-unemitted-metric.yaml": "graphs GoServerless/Jobs JobsVanished, which the code of services/jobs never names",
		"dashboard-not-json.yaml":         "DashboardBody is not JSON",
	} {
		got := checkDashboards(load(t, filepath.Join("testdata", fixture)), "jobs", literals)
		t.Logf("%s:\n%s", fixture, strings.Join(got, "\n"))
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, want) }) {
			t.Errorf("%s: got %q, want a violation mentioning %q", fixture, got, want)
		}
	}
}

// TestServicesEmitMetricsAsLogLines holds the README's claim that metrics cost no API call in the
// request path: no service's code imports the CloudWatch client (PutMetricData), and no role in
// a service template allows cloudwatch:PutMetricData.
func TestServicesEmitMetricsAsLogLines(t *testing.T) {
	err := filepath.WalkDir("../../services", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "template.yaml")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, banned := range []string{"aws-sdk-go-v2/service/cloudwatch\"", "cloudwatch:PutMetricData"} {
			if strings.Contains(string(src), banned) {
				t.Errorf("%s names %s: metrics are EMF log lines (shared/metrics), not API calls", path, banned)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
