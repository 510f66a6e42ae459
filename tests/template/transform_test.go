package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// transformScript runs AWS SAM's translator (aws-sam-translator, which cfn-lint brings) offline;
// see its doc string.
const transformScript = "transform.py"

// transforms holds what SAM's transform made of each template, by path, for the life of the test
// binary: every rule's test reads every fixture, and starting the translator costs about a second.
var transforms struct {
	sync.Mutex
	byPath map[string]transformResult
}

// transformResult is the transformed template at one path, or why there is none.
type transformResult struct {
	template *template.Template
	err      error
}

// transformed returns what SAM's transform makes of the template at path, as CloudFormation
// receives it. The first call transforms, in one run of the translator, every template the tests
// read (the project's, its services' and testdata/*.yaml); later calls read the result. The translator must be
// installed: CI installs cfn-lint, so its absence fails the test rather than skipping it.
func transformed(t *testing.T, path string) *template.Template {
	t.Helper()
	transforms.Lock()
	defer transforms.Unlock()
	if transforms.byPath == nil {
		transforms.byPath = map[string]transformResult{}
	}
	if _, ok := transforms.byPath[path]; !ok {
		paths := []string{path}
		if len(transforms.byPath) == 0 {
			fixtures, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
			if err != nil {
				t.Fatalf("list fixtures: %v", err)
			}
			services, err := filepath.Glob("../../services/*/template.yaml")
			if err != nil {
				t.Fatalf("list service templates: %v", err)
			}
			paths = append(paths, projectTemplate)
			paths = append(paths, services...)
			paths = append(paths, fixtures...)
			slices.Sort(paths)
			paths = slices.Compact(paths)
		}
		for p, r := range transformAll(paths) {
			transforms.byPath[p] = r
		}
	}
	r := transforms.byPath[path]
	if r.err != nil {
		t.Fatalf("SAM transform of %s: %v", path, r.err)
	}
	return r.template
}

// transformAll runs the translator once over paths and parses each result with the project's
// parser; a failure to run it at all is every path's error.
func transformAll(paths []string) map[string]transformResult {
	results := make(map[string]transformResult, len(paths))
	fail := func(err error) map[string]transformResult {
		for _, p := range paths {
			results[p] = transformResult{err: err}
		}
		return results
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command("python3", append([]string{transformScript}, paths...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fail(fmt.Errorf("python3 is not installed; CI installs it with cfn-lint (pip install cfn-lint), which brings aws-sam-translator: %w", err))
		}
		return fail(fmt.Errorf("run %s: %w: %s", transformScript, err, bytes.TrimSpace(stderr.Bytes())))
	}
	var out map[string]struct {
		Template json.RawMessage `json:"template"`
		Error    string          `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return fail(fmt.Errorf("read the output of %s: %w", transformScript, err))
	}
	for _, p := range paths {
		r, ok := out[p]
		switch {
		case !ok:
			results[p] = transformResult{err: fmt.Errorf("%s returned nothing for it", transformScript)}
		case r.Error != "":
			results[p] = transformResult{err: fmt.Errorf("the translator refused it: %s", r.Error)}
		default:
			// JSON is YAML, so the project's parser reads the transformed template as it is.
			tmpl, err := template.Parse(r.Template, filepath.Dir(p))
			if err != nil {
				err = fmt.Errorf("parse the transformed template: %w", err)
			}
			results[p] = transformResult{template: tmpl, err: err}
		}
	}
	return results
}

// BenchmarkTransformProjectTemplate measures one run of the translator over template.yaml: the
// price of the transformed-template rules, paid once per test binary.
func BenchmarkTransformProjectTemplate(b *testing.B) {
	for b.Loop() {
		if r := transformAll([]string{projectTemplate})[projectTemplate]; r.err != nil {
			b.Fatal(r.err)
		}
	}
}
