package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParametersSet(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string
		want    parameters
		wantErr string
	}{
		{name: "one", flags: []string{"FlagSource=file"}, want: parameters{"FlagSource": "file"}},
		{name: "the value may hold =", flags: []string{"Query=a=b"}, want: parameters{"Query": "a=b"}},
		{name: "the value may be empty", flags: []string{"Suffix="}, want: parameters{"Suffix": ""}},
		{name: "repeated, the last wins", flags: []string{"A=1", "B=2", "A=3"}, want: parameters{"A": "3", "B": "2"}},
		{name: "no =", flags: []string{"FlagSource"}, want: parameters{}, wantErr: `want Name=Value, got "FlagSource"`},
		{name: "no name", flags: []string{"=file"}, want: parameters{}, wantErr: `want Name=Value, got "=file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parameters{}
			var err error
			for _, f := range tt.flags {
				if err = p.Set(f); err != nil {
					break
				}
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("got %v, want %v", p, tt.want)
			}
		})
	}
}

func TestAddParameterFile(t *testing.T) {
	const defaultFile = `{"FlagSource": "file", "FlagsFile": "${RepoRoot}/services/pricing/flags.json", "Limit": "1000"}`
	tests := []struct {
		name string
		// defaultFile is infra/local/parameters.json beside the template, "" for none.
		defaultFile string
		// explicitFile is the -parameters file, "" when the flag is not given; missing when absent.
		explicitFile string
		missing      bool
		// flags are -parameter values set before the file is read.
		flags parameters
		// want is the parameters after, with ROOT standing for the template's directory.
		want    parameters
		wantErr string
	}{
		{
			name:        "the default file, ${RepoRoot} expanded",
			defaultFile: defaultFile,
			want:        parameters{"FlagSource": "file", "FlagsFile": "ROOT/services/pricing/flags.json", "Limit": "1000"},
		},
		{
			name:        "-parameter wins over the file",
			defaultFile: defaultFile,
			flags:       parameters{"FlagSource": "launchdarkly", "Other": "x"},
			want:        parameters{"FlagSource": "launchdarkly", "Other": "x", "FlagsFile": "ROOT/services/pricing/flags.json", "Limit": "1000"},
		},
		{
			name:  "no default file is fine",
			flags: parameters{"Other": "x"},
			want:  parameters{"Other": "x"},
		},
		{
			name:         "an explicit file replaces the default one",
			defaultFile:  defaultFile,
			explicitFile: `{"Limit": "${RepoRoot}", "Stage": "test"}`,
			want:         parameters{"Limit": "ROOT", "Stage": "test"},
		},
		{
			name:    "an explicit file that is missing",
			missing: true, defaultFile: defaultFile,
			want:    parameters{},
			wantErr: "read parameters",
		},
		{
			name:         "an explicit file that is not JSON",
			explicitFile: `FlagSource: file`,
			want:         parameters{},
			wantErr:      "want a JSON object of strings",
		},
		{
			name:        "a default file with a number",
			defaultFile: `{"Limit": 1000}`,
			want:        parameters{},
			wantErr:     "want a JSON object of strings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			templatePath := filepath.Join(root, "template.yaml")
			if tt.defaultFile != "" {
				writeFile(t, filepath.Join(root, "infra", "local", "parameters.json"), tt.defaultFile)
			}
			var path string
			switch {
			case tt.missing:
				path = filepath.Join(root, "missing.json")
			case tt.explicitFile != "":
				path = filepath.Join(t.TempDir(), "params.json")
				writeFile(t, path, tt.explicitFile)
			}
			params := parameters{}
			for k, v := range tt.flags {
				params[k] = v
			}
			err := addParameterFile(params, path, templatePath)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := parameters{}
			for k, v := range tt.want {
				want[k] = strings.ReplaceAll(v, "ROOT", root)
			}
			if !reflect.DeepEqual(params, want) {
				t.Errorf("got %v, want %v", params, want)
			}
		})
	}
}

func TestAddParameterFileRelativeTemplate(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "infra", "local", "parameters.json"), `{"FlagsFile": "${RepoRoot}/flags.json"}`)
	t.Chdir(root)
	params := parameters{}
	if err := addParameterFile(params, "", "template.yaml"); err != nil {
		t.Fatal(err)
	}
	// ${RepoRoot} is absolute, so functions started elsewhere still find the file.
	if got, want := params["FlagsFile"], filepath.Join(root, "flags.json"); got != want {
		t.Errorf("got FlagsFile %q, want %q", got, want)
	}
}

func TestLock(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	unlock, err := lock(state)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	holder, err := os.ReadFile(filepath.Join(state, "runner.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(holder), fmt.Sprintf("%d\n", os.Getpid()); got != want {
		t.Errorf("got lock file %q, want %q", got, want)
	}

	_, err = lock(state)
	if err == nil {
		t.Fatal("second lock on the same state directory: got no error")
	}
	for _, want := range []string{"already running", fmt.Sprintf("pid %d,", os.Getpid()), state} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second lock: got error %q, want it to contain %q", err, want)
		}
	}

	// Another state directory is another stack.
	unlockOther, err := lock(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Errorf("lock on another state directory: %v", err)
	} else {
		unlockOther()
	}

	unlock()
	unlock, err = lock(state)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
