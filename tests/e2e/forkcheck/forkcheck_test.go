package forkcheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEachServiceCompilesAlone vets the e2e package once per service, with only that service's
// file besides the harness, and once with the harness alone.
func TestEachServiceCompilesAlone(t *testing.T) {
	e2e, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	services := servicesIn(t, filepath.Join(e2e, "..", "..", "services"))
	files := map[string]string{} // service → its file in e2e
	for _, svc := range services {
		file := filepath.Join(e2e, svc+"_test.go")
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("service %s has no end-to-end tests in e2e/%s_test.go: %v", svc, svc, err)
		}
		files[svc] = file
	}

	for _, kept := range append(services, "") {
		name := kept
		if kept == "" {
			name = "harness only"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The overlay makes go see a file mapped to "" as if it did not exist.
			removed := map[string]string{}
			for svc, file := range files {
				if svc != kept {
					removed[file] = ""
				}
			}
			overlay := filepath.Join(t.TempDir(), "overlay.json")
			data, err := json.Marshal(map[string]any{"Replace": removed})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(overlay, data, 0o644); err != nil {
				t.Fatal(err)
			}
			vet := exec.Command("go", "vet", "-overlay", overlay, ".")
			vet.Dir = e2e
			if out, err := vet.CombinedOutput(); err != nil {
				t.Errorf("go vet of e2e with %s: %v\n%s\n"+
					"A service's tests may use the harness and their own file only: move what two services share into a harness file.",
					without(name, removed), err, out)
			}
		})
	}
}

// servicesIn returns the services: the folders of dir that hold a Go module.
func servicesIn(t *testing.T, dir string) []string {
	t.Helper()
	modules, err := filepath.Glob(filepath.Join(dir, "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) == 0 {
		t.Fatalf("no services in %s", dir)
	}
	var services []string
	for _, m := range modules {
		services = append(services, filepath.Base(filepath.Dir(m)))
	}
	return services
}

// without describes a pruned package for an error message.
func without(kept string, removed map[string]string) string {
	var names []string
	for _, file := range slices.Sorted(maps.Keys(removed)) {
		names = append(names, filepath.Base(file))
	}
	if len(names) == 0 {
		return kept + " (nothing removed)"
	}
	return fmt.Sprintf("%s (without %s)", kept, strings.Join(names, ", "))
}
