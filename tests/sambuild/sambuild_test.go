package sambuild

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// projectTemplate is the template whose functions are built.
const projectTemplate = "../../template.yaml"

// TestSAMBuild builds every function of the application, those of its nested templates included,
// as SAM CLI's makefile builder would and checks each artifact. With SAMBUILD_OUT set, artifacts go to $SAMBUILD_OUT/<LogicalId>; otherwise
// to temporary folders.
func TestSAMBuild(t *testing.T) {
	tmpl, fns := functions(t, projectTemplate)
	out := os.Getenv("SAMBUILD_OUT")
	if out != "" {
		abs, err := filepath.Abs(out)
		if err != nil {
			t.Fatal(err)
		}
		out = abs
	}
	for _, fn := range fns {
		t.Run(fn.LogicalID, func(t *testing.T) {
			t.Parallel()
			if err := deployable(tmpl, fn); err != nil {
				t.Fatal(err)
			}
			artifacts := t.TempDir()
			if out != "" {
				artifacts = filepath.Join(out, fn.LogicalID)
			}
			codeDir := filepath.Join(tmpl.Dir, fn.CodeURI)
			if err := samBuild(codeDir, codeDir, fn.LogicalID, artifacts); err != nil {
				t.Fatal(err)
			}
			if err := checkArtifacts(artifacts); err != nil {
				t.Fatalf("%s: %v", fn.LogicalID, err)
			}
		})
	}
}

// TestSAMBuildFromAScratchCopy builds one function the way SAM CLI does without build_in_source:
// in a copy of its CodeUri folder, with --makefile naming the Makefile in the source. The service
// Makefile must find infra/lambda.mk, and lambda.mk the module, from the Makefile's own path.
func TestSAMBuildFromAScratchCopy(t *testing.T) {
	tmpl, fns := functions(t, projectTemplate)
	fn := fns[0]
	codeDir := filepath.Join(tmpl.Dir, fn.CodeURI)
	scratch := filepath.Join(t.TempDir(), "scratch")
	if err := os.CopyFS(scratch, os.DirFS(codeDir)); err != nil {
		t.Fatalf("copy %s: %v", codeDir, err)
	}
	artifacts := t.TempDir()
	if err := samBuild(scratch, codeDir, fn.LogicalID, artifacts); err != nil {
		t.Fatal(err)
	}
	if err := checkArtifacts(artifacts); err != nil {
		t.Fatalf("%s: %v", fn.LogicalID, err)
	}
}

// TestSAMBuildFindsTheCodeOfANestedTemplate shows where a function of a nested application is
// built: in its CodeUri read from the nested template's folder, as sam build reads it.
func TestSAMBuildFindsTheCodeOfANestedTemplate(t *testing.T) {
	tmpl, fns := functions(t, filepath.Join("testdata", "nested", "template.yaml"))
	if len(fns) != 1 {
		t.Fatalf("fixture has %d functions; want 1", len(fns))
	}
	want, err := filepath.Abs(filepath.Join("..", "..", "services", "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Join(tmpl.Dir, fns[0].CodeURI); got != want {
		t.Errorf("SubmitJobFunction is built in %s; want %s", got, want)
	}
	if err := deployable(tmpl, fns[0]); err != nil {
		t.Error(err)
	}
}

// TestSAMBuildNamesAFunctionWithoutItsPackage shows the build failing, with the logical ID named,
// for a function whose <CodeUri>/cmd/<name> folder does not exist. Its CodeUri is a real service
// folder, whichever comes first in services/ (a fork has only its own).
func TestSAMBuildNamesAFunctionWithoutItsPackage(t *testing.T) {
	_, fns := functions(t, filepath.Join("testdata", "missing-cmd.yaml"))
	if len(fns) != 1 {
		t.Fatalf("fixture has %d functions; want 1", len(fns))
	}
	makefiles, err := filepath.Glob(filepath.Join("..", "..", "services", "*", "Makefile"))
	if err != nil || len(makefiles) == 0 {
		t.Fatalf("no service Makefile in ../../services: %v", err)
	}
	codeDir, err := filepath.Abs(filepath.Dir(makefiles[0]))
	if err != nil {
		t.Fatal(err)
	}
	err = samBuild(codeDir, codeDir, fns[0].LogicalID, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "NoSuchThingFunction: no main package") {
		t.Fatalf("build of NoSuchThingFunction: %v; want a failure naming it and its missing package", err)
	}
}

// TestEveryMainPackageIsAFunction finds cmd folders no function in the template builds: code
// that `sam build` never ships, most likely a function renamed in one place only.
func TestEveryMainPackageIsAFunction(t *testing.T) {
	tmpl, fns := functions(t, projectTemplate)
	built := map[string]bool{}
	for _, fn := range fns {
		built[filepath.Join(tmpl.Dir, fn.Package)] = true
	}
	dirs, err := filepath.Glob(filepath.Join(tmpl.Dir, "services", "*", "cmd", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if !built[dir] {
			rel, _ := filepath.Rel(tmpl.Dir, dir)
			t.Errorf("%s is no function's main package (XxxYyyFunction with CodeUri services/<svc> lives in services/<svc>/cmd/xxx-yyy)", rel)
		}
	}
}

func TestCheckArtifactsRefusesWhatLambdaCannotRun(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // name → content, each written with mode 0755
		mode  os.FileMode
		want  string
	}{
		{name: "nothing built", files: map[string]string{}, want: "no file named bootstrap"},
		{name: "another name", files: map[string]string{"main": "x"}, want: "no file named bootstrap"},
		{name: "more than bootstrap", files: map[string]string{"bootstrap": "x", "bootstrap.debug": "x"}, want: "exactly one file"},
		{name: "not an ELF", files: map[string]string{"bootstrap": "#!/bin/sh\n"}, want: "not an ELF"},
		{name: "not executable by everyone", files: map[string]string{"bootstrap": "x"}, mode: 0o700, want: "executable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
				if tt.mode != 0 {
					if err := os.Chmod(path, tt.mode); err != nil {
						t.Fatal(err)
					}
				}
			}
			err := checkArtifacts(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkArtifacts = %v; want an error about %q", err, tt.want)
			}
		})
	}
}

// functions loads a template with its nested applications, as sam build reads them, and returns
// every function: their CodeUri is relative to tmpl.Dir.
func functions(t *testing.T, path string) (*template.Template, []template.Function) {
	t.Helper()
	tmpl, err := template.LoadApp(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(fns) == 0 {
		t.Fatalf("%s declares no functions", path)
	}
	return tmpl, fns
}

// deployable checks that SAM builds fn with its makefile builder for the platform the Makefile
// builds for: without BuildMethod makefile SAM would use another builder, and an arm64 binary on
// an x86_64 function does not start.
func deployable(tmpl *template.Template, fn template.Function) error {
	if method, _ := tmpl.Resources[fn.LogicalID].Metadata["BuildMethod"].(string); method != "makefile" {
		return fmt.Errorf("%s: Metadata BuildMethod is %q; want makefile (infra/lambda.mk is how functions are built)", fn.LogicalID, method)
	}
	if runtime, _ := fn.Properties["Runtime"].(string); !strings.HasPrefix(runtime, "provided.") {
		return fmt.Errorf("%s: Runtime is %q; want an OS-only runtime (provided.al2023) that runs bootstrap", fn.LogicalID, runtime)
	}
	if archs, _ := fn.Properties["Architectures"].([]any); !slices.Equal(archs, []any{"arm64"}) {
		return fmt.Errorf("%s: Architectures is %v; want [arm64], what infra/lambda.mk builds for", fn.LogicalID, fn.Properties["Architectures"])
	}
	return nil
}

// samBuild does what SAM CLI's makefile builder does for one function: it empties artifacts and
// runs `make --makefile <source>/Makefile build-<logicalID>` in dir (the CodeUri folder itself
// with build_in_source, otherwise a scratch copy of it) with ARTIFACTS_DIR in the environment.
// The make variables of an enclosing make (`make build` runs this test) are left out: SAM starts
// make from a clean process.
func samBuild(dir, source, logicalID, artifacts string) error {
	if err := os.RemoveAll(artifacts); err != nil {
		return err
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("make", "--makefile", filepath.Join(source, "Makefile"), "build-"+logicalID)
	cmd.Dir = dir
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "GNUMAKEFLAGS", "ARTIFACTS_DIR"}, name)
	})
	cmd.Env = append(cmd.Env, "ARTIFACTS_DIR="+artifacts)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: make build-%s in %s: %v\n%s", logicalID, logicalID, dir, err, output.Bytes())
	}
	return nil
}

// checkArtifacts checks that dir holds what Lambda's provided.al2023 runtime on arm64 runs: one
// file, bootstrap, an executable ELF for aarch64 that needs no dynamic loader and no shared
// libraries (the runtime image promises neither a libc version nor any library).
func checkArtifacts(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "bootstrap") {
		return fmt.Errorf("ARTIFACTS_DIR holds %v: no file named bootstrap", names)
	}
	if len(names) != 1 {
		return fmt.Errorf("ARTIFACTS_DIR holds %v; want exactly one file, bootstrap (everything in it is deployed)", names)
	}
	path := filepath.Join(dir, "bootstrap")
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	// Lambda runs bootstrap as a user that does not own the file; SAM's zip adds read permission
	// for everyone, not execute.
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o555 != 0o555 {
		return fmt.Errorf("bootstrap is %v; want a regular file readable and executable by everyone", info.Mode())
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not an ELF executable: %v", err)
	}
	defer f.Close()
	var problems []string
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		problems = append(problems, fmt.Sprintf("built for %v %v; want EM_AARCH64 ELFCLASS64 (Architectures: [arm64])", f.Machine, f.Class))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			problems = append(problems, "has a PT_INTERP program header: it needs a dynamic loader (build with CGO_ENABLED=0)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read bootstrap's dynamic section: %w", err)
	}
	if len(libs) > 0 {
		problems = append(problems, fmt.Sprintf("needs shared libraries %v (DT_NEEDED)", libs))
	}
	if len(problems) > 0 {
		return fmt.Errorf("bootstrap: %s", strings.Join(problems, "; "))
	}
	return nil
}
