package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// upstreamModule is the module path every module of this repository starts with; a fork has its
// own instead, rewritten everywhere. It is written in two pieces so that the rewrite leaves it
// alone: the fork's copy of this tool (and of its tests) still knows upstream's path.
const upstreamModule = "github.com/go-serverless/" + "reference"

// upstreamURL is where upstream lives, for the fork's README and for `git remote add upstream`.
const upstreamURL = "https://" + upstreamModule

// options says what to fork and where.
type options struct {
	repo    string // this repository's root, absolute
	service string // services/<service>
	dest    string // the new repository's root, absolute
	module  string // the fork's module path
	log     io.Writer
}

// writeFork writes the fork: this repository's files (those git tracks or would track) pruned to
// one service, with the files that name every service made for the one, the module path
// rewritten, and the shared packages it does not import taken out.
func writeFork(o options) (err error) {
	if err := checkModulePath(o.module); err != nil {
		return err
	}
	if err := checkDest(o.repo, o.dest); err != nil {
		return err
	}
	// A fork that fails half-way leaves nothing behind: DEST was empty or absent.
	defer func() {
		if err != nil {
			entries, _ := os.ReadDir(o.dest)
			for _, e := range entries {
				_ = os.RemoveAll(filepath.Join(o.dest, e.Name()))
			}
		}
	}()

	files, pageTest, err := forkFiles(o.repo, o.service)
	if err != nil {
		return err
	}
	rootTemplate, err := os.ReadFile(filepath.Join(o.repo, "template.yaml"))
	if err != nil {
		return err
	}
	root, err := pruneRootTemplate(rootTemplate, o.service)
	if err != nil {
		return fmt.Errorf("template.yaml: %w", err)
	}
	// The files that name every service, made for the one.
	transforms := map[string]func([]byte) ([]byte, error){
		"template.yaml":               func([]byte) ([]byte, error) { return root.text, nil },
		"infra/local/parameters.json": func(b []byte) ([]byte, error) { return forkParameters(b, root.parameters) },
		"Makefile":                    func(b []byte) ([]byte, error) { return forkMakefile(b, pageTest) },
		".ci/run":                     func(b []byte) ([]byte, error) { return forkCIRun(b, pageTest), nil },
		"go.work":                     func(b []byte) ([]byte, error) { return forkGoWork(b, o.service), nil },
	}
	for _, f := range files {
		if err := copyFile(o, f, transforms[f]); err != nil {
			return err
		}
	}

	shared, dropped, err := trimModules(o.dest, o.module)
	if err != nil {
		return err
	}

	serviceReadme, err := os.ReadFile(filepath.Join(o.repo, "services", o.service, "README.md"))
	if err != nil {
		return err
	}
	commit, dirty := upstreamCommit(o.repo)
	title, intro := titleAndIntro(serviceReadme)
	r := readme{
		service: o.service, module: o.module, upstreamURL: upstreamURL, commit: commit, dirty: dirty,
		title: title, intro: intro, app: root.app, shared: shared, pageTest: pageTest,
	}
	if err := os.WriteFile(filepath.Join(o.dest, "README.md"), r.text(), 0o644); err != nil {
		return err
	}

	fmt.Fprintf(o.log, "fork: wrote %s: services/%s as module %s; shared packages %s",
		o.dest, o.service, o.module, strings.Join(shared, " "))
	if len(dropped) > 0 {
		fmt.Fprintf(o.log, " (left out: %s)", strings.Join(dropped, " "))
	}
	fmt.Fprintf(o.log, "\nfork: next: cd %s && git init && make test\n", o.dest)
	return nil
}

// forkFiles returns the repository files a fork of service keeps, and whether the service has a
// page test (so the fork keeps tests/browser). The other services' folders and end-to-end tests
// go; of tests/e2e/testdata, what the end-to-end tests left do not name goes too.
func forkFiles(repo, service string) (files []string, pageTest bool, err error) {
	all, err := repositoryFiles(repo)
	if err != nil {
		return nil, false, err
	}
	services := serviceNames(all)
	if !slices.Contains(services, service) {
		return nil, false, fmt.Errorf("no service %q: services/ holds %s", service, strings.Join(services, ", "))
	}
	files = slices.DeleteFunc(all, func(f string) bool { return !keptAlways(f, service, services) })
	e2e, err := e2eSource(repo, files)
	if err != nil {
		return nil, false, err
	}
	if pageTest, err = drivesAPage(repo, files); err != nil {
		return nil, false, err
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		switch {
		case strings.HasPrefix(f, "tests/e2e/testdata/"):
			return !strings.Contains(e2e, path.Base(f))
		case strings.HasPrefix(f, "tests/browser/"):
			return !pageTest
		}
		return false
	})
	return files, pageTest, nil
}

// drivesAPage reports whether an end-to-end test among files drives a page in the headless
// browser: a Test function that calls browser, or calls a function of those files that does, at
// any depth (runPageScript, readOpsPage). Then the fork keeps tests/browser and the Makefile's
// browser target. Every fork keeps the harness's index page test, so today every fork does; the
// question is asked of the code so that it stays right when that changes.
func drivesAPage(repo string, files []string) (bool, error) {
	var funcs []*ast.FuncDecl
	fset := token.NewFileSet()
	for _, f := range files {
		if dir, name := path.Split(f); dir != "tests/e2e/" || !strings.HasSuffix(name, ".go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(repo, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return false, err
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil && fn.Recv == nil {
				funcs = append(funcs, fn)
			}
		}
	}
	drives := map[string]bool{"browser": true}
	for grew := true; grew; {
		grew = false
		for _, fn := range funcs {
			if !drives[fn.Name.Name] && callsAny(fn.Body, drives) {
				drives[fn.Name.Name], grew = true, true
			}
		}
	}
	return slices.ContainsFunc(funcs, func(fn *ast.FuncDecl) bool {
		return strings.HasPrefix(fn.Name.Name, "Test") && drives[fn.Name.Name]
	}), nil
}

// callsAny reports whether n contains a call of one of the functions in names (plain identifiers).
func callsAny(n ast.Node, names map[string]bool) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && names[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

// trimModules takes out of the fork at root the shared packages nothing in it imports, and then
// tidies every module's go.mod: the code left out took some requirements with it. It returns the
// shared packages kept and those taken out.
func trimModules(root, module string) (shared, dropped []string, err error) {
	modules, err := workspaceModules(root)
	if err != nil {
		return nil, nil, err
	}
	env := append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	if shared, err = selectShared(root, module+"/shared", modules, env); err != nil {
		return nil, nil, err
	}
	if dropped, err = pruneShared(filepath.Join(root, "shared"), shared); err != nil {
		return nil, nil, err
	}
	for _, m := range modules {
		tidy := exec.Command("go", "mod", "tidy")
		tidy.Dir = filepath.Join(root, m)
		tidy.Env = env
		if out, err := tidy.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("go mod tidy in %s: %v\n%s", m, err, out)
		}
	}
	return shared, dropped, nil
}

// checkDest refuses a destination that holds anything or lies inside the repository.
func checkDest(repo, dest string) error {
	realRepo, err := filepath.EvalSymlinks(repo)
	if err != nil {
		return err
	}
	// The destination may not exist yet: resolve the nearest folder above it that does.
	existing, rest := dest, ""
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return err
	}
	real = filepath.Join(real, rest)
	if rel, err := filepath.Rel(realRepo, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("DEST %s is inside this repository; a fork goes somewhere of its own", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("DEST %s is not empty", dest)
	}
	return nil
}

// repositoryFiles lists the files of the repository at root that git tracks or would track (the
// .gitignore'd ones, .cache/ and bin/, are left out), as slash-separated relative paths. A file
// git still tracks but that is gone from the working tree is left out too.
func repositoryFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list the repository's files (git ls-files): %w", err)
	}
	var files []string
	for f := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if info, err := os.Lstat(filepath.Join(root, f)); err == nil && info.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// serviceNames returns the services: the folders under services/.
func serviceNames(files []string) []string {
	var names []string
	for _, f := range files {
		if rest, ok := strings.CutPrefix(f, "services/"); ok {
			if name, _, ok := strings.Cut(rest, "/"); ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// keptAlways reports whether a fork of service keeps the repository file f whatever its tests use:
// everything but the other services' folders and end-to-end test files (<other>_test.go, or
// <other>_*.go).
func keptAlways(f, service string, services []string) bool {
	for _, other := range services {
		if other == service {
			continue
		}
		if strings.HasPrefix(f, "services/"+other+"/") {
			return false
		}
		if dir, name := path.Split(f); dir == "tests/e2e/" && strings.HasPrefix(name, other+"_") {
			return false
		}
	}
	return true
}

// e2eSource returns the Go files of tests/e2e among files, concatenated.
func e2eSource(repo string, files []string) (string, error) {
	var b strings.Builder
	for _, f := range files {
		if dir, name := path.Split(f); dir == "tests/e2e/" && strings.HasSuffix(name, ".go") {
			data, err := os.ReadFile(filepath.Join(repo, f))
			if err != nil {
				return "", err
			}
			b.Write(data)
		}
	}
	return b.String(), nil
}

// copyFile copies the repository file f into the fork, through transform if there is one, with the
// module path rewritten in text. A file that comes out unchanged keeps its modification time, as
// cp -p would: make compares it with what was built from it (the stand-ins' lockfile with their
// install), and a fork should rebuild no more than a checkout does.
func copyFile(o options, f string, transform func([]byte) ([]byte, error)) error {
	src := filepath.Join(o.repo, filepath.FromSlash(f))
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	out := data
	if transform != nil {
		if out, err = transform(data); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	if !isBinary(out) {
		if strings.HasSuffix(f, ".go") {
			if out, err = rewriteGoModule(out, upstreamModule, o.module); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		} else {
			out = rewriteModule(out, upstreamModule, o.module)
		}
	}
	dst := filepath.Join(o.dest, filepath.FromSlash(f))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, out, info.Mode().Perm()); err != nil {
		return err
	}
	if bytes.Equal(out, data) {
		return os.Chtimes(dst, info.ModTime(), info.ModTime())
	}
	return nil
}

// isBinary reports whether data looks like a binary file: a NUL byte in its first 8000 bytes, as
// git decides.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}

// workspaceModules returns the folders the go.work at root uses, relative to root.
func workspaceModules(root string) ([]string, error) {
	cmd := exec.Command("go", "work", "edit", "-json", filepath.Join(root, "go.work"))
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(root, "go.work"), err)
	}
	var work struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal(out, &work); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(root, "go.work"), err)
	}
	var dirs []string
	for _, u := range work.Use {
		dirs = append(dirs, filepath.Clean(u.DiskPath))
	}
	return dirs, nil
}

// upstreamCommit returns the commit the repository at root has checked out, and whether its
// working tree has changes; "" when git cannot say.
func upstreamCommit(root string) (string, bool) {
	head := exec.Command("git", "rev-parse", "--short=12", "HEAD")
	head.Dir = root
	out, err := head.Output()
	if err != nil {
		return "", false
	}
	status := exec.Command("git", "status", "--porcelain")
	status.Dir = root
	changes, err := status.Output()
	return strings.TrimSpace(string(out)), err == nil && len(changes) > 0
}
