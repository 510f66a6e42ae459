package template

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// The rules that look across a nested application's boundary (OutputsForTests: the root
// re-exports each nested API; StackTags: the root passes its stage) are seen to fail on a root
// that nests testdata/good.yaml without them. The other rules keep.
func TestNestedApplicationRules(t *testing.T) {
	wantBroken := map[string][]offence{
		"OutputsForTests": {{"ServiceApp", "no root output re-exports its API's URL"}},
		"StackTags": {
			{"ServiceApp", "Parameters.Stage is null, want !Ref Stage"},
			{"HelloFunction.Tags", `stage is "test", want !Ref Stage`},
		},
	}
	for _, fixture := range []string{"good.yaml", "broken.yaml"} {
		t.Run(fixture, func(t *testing.T) {
			path := filepath.Join("testdata", "nested", fixture)
			tmpl, err := template.LoadApp(path)
			if err != nil {
				t.Fatalf("load %s with its nested application: %v", path, err)
			}
			for _, r := range allRules() {
				if r.check == nil {
					continue // the transform runs per file; testdata/good.yaml is checked on its own
				}
				got := r.check(tmpl)
				want := wantBroken[r.name]
				if fixture == "good.yaml" {
					want = nil
				}
				if len(want) == 0 && len(got) != 0 {
					t.Errorf("%s breaks %s, want it kept:\n%s", path, r.name, strings.Join(got, "\n"))
				}
				for _, w := range want {
					if !reported(got, w) {
						t.Errorf("%s: got violations of %s:\n%s\nwant one starting %q that mentions %q", path, r.name, strings.Join(got, "\n"), w.id+": ", w.about)
					}
				}
			}
		})
	}
}

// Every service's template is nested by the root, once: a service added under services/ and
// forgotten in template.yaml would deploy nowhere, and `make run` would not serve it.
func TestRootNestsEveryService(t *testing.T) {
	services, err := filepath.Glob("../../services/*/template.yaml")
	if err != nil || len(services) == 0 {
		t.Fatalf("list services/*/template.yaml: %v (found %d)", err, len(services))
	}
	var want []string
	for _, s := range services {
		rel, err := filepath.Rel("../..", s)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, filepath.ToSlash(rel))
	}
	if missing, twice := nestedLocations(load(t, projectTemplate), want); len(missing)+len(twice) != 0 {
		t.Errorf("%s: services not nested: %v; nested more than once: %v", projectTemplate, missing, twice)
	}
	// Seen to fail: the fixture root nests testdata/good.yaml, not the project's services.
	if missing, _ := nestedLocations(load(t, "testdata/nested/good.yaml"), want); len(missing) != len(want) {
		t.Errorf("testdata/nested/good.yaml: want every service reported missing, got %v", missing)
	}
}

// nestedLocations compares the Locations of root's applications with want (paths relative to the
// root's folder): which are nested by no application, and which by more than one.
func nestedLocations(root *template.Template, want []string) (missing, twice []string) {
	count := map[string]int{}
	for _, app := range root.OfType(template.TypeApplication) {
		count[filepath.ToSlash(filepath.Clean(stringAt(app.Properties, "Location")))]++
	}
	for _, w := range want {
		switch count[w] {
		case 0:
			missing = append(missing, w)
		case 1:
		default:
			twice = append(twice, w)
		}
	}
	slices.Sort(missing)
	return missing, twice
}
