package main

import "testing"

// Every string here is built from upstreamModule, so that a fork's rewrite of this file (a fork
// keeps this tool) leaves the cases as they are.

func TestRewriteModule(t *testing.T) {
	const from, to = upstreamModule, "example.com/jobs"
	tests := []struct {
		name, in, want string
	}{
		{"go.mod module line", "module " + from + "/services/jobs\n", "module example.com/jobs/services/jobs\n"},
		{"replace line", "replace " + from + "/shared => ../../shared\n", "replace example.com/jobs/shared => ../../shared\n"},
		{"the module path alone, in prose", "Module " + from + ".", "Module example.com/jobs."},
		{"every occurrence", "`" + from + "/a` and `" + from + "/b`", "`example.com/jobs/a` and `example.com/jobs/b`"},
		{"a URL names the upstream repository: kept", "https://" + from + "/blob/main/README.md", "https://" + from + "/blob/main/README.md"},
		{"a longer name is another one: kept", from + "-docs", from + "-docs"},
		{"nothing to rewrite", "package main\n", "package main\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(rewriteModule([]byte(tt.in), from, to)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The new path can sort elsewhere among the imports; gofmt would then report the file.
func TestRewriteGoModuleKeepsImportsSorted(t *testing.T) {
	src := "package main\n\nimport (\n\t\"github.com/aws/aws-lambda-go/lambda\"\n\t\"" + upstreamModule + "/shared/coldstart\"\n)\n"
	want := "package main\n\nimport (\n\t\"example.com/jobs/shared/coldstart\"\n\t\"github.com/aws/aws-lambda-go/lambda\"\n)\n"
	got, err := rewriteGoModule([]byte(src), upstreamModule, "example.com/jobs")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCheckModulePath(t *testing.T) {
	for _, ok := range []string{"example.com/jobs", "github.com/acme/jobs-service", "jobs"} {
		if err := checkModulePath(ok); err != nil {
			t.Errorf("%s: got %v, want no error", ok, err)
		}
	}
	for _, bad := range []string{"", "example.com/jobs/", "/jobs", "example.com//jobs", "example com", "../jobs"} {
		if err := checkModulePath(bad); err == nil {
			t.Errorf("%q: got no error, want one", bad)
		}
	}
}
