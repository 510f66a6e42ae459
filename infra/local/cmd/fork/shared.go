package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// sharedPackages returns the folders, relative to the shared module's root, of the packages of
// module sharedModule among the import paths `go list -deps -test` printed. A test variant
// ("p [q.test]"), an external test package ("p_test") and a test main ("p.test") count as p.
func sharedPackages(listed []string, sharedModule string) []string {
	var dirs []string
	for _, p := range listed {
		p, _, _ = strings.Cut(p, " ")
		p = strings.TrimSuffix(strings.TrimSuffix(p, ".test"), "_test")
		var dir string
		switch {
		case p == sharedModule:
			dir = "."
		case strings.HasPrefix(p, sharedModule+"/"):
			dir = strings.TrimPrefix(p, sharedModule+"/")
		default:
			continue
		}
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// goList runs `go list -deps -test` on patterns in dir and returns the import paths it prints.
func goList(dir string, env []string, patterns ...string) ([]string, error) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, patterns...)...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps -test %s in %s: %v\n%s", strings.Join(patterns, " "), dir, err, stderr.Bytes())
	}
	return strings.Fields(string(out)), nil
}

// selectShared returns the packages of the shared module (folders relative to shared/) that the
// fork at root imports: from every other module of the fork, tests included, and then from those
// packages themselves, tests included, until nothing new comes in (a kept package's test may
// import a shared package nothing else does).
func selectShared(root, sharedModule string, modules []string, env []string) ([]string, error) {
	var listed []string
	for _, m := range modules {
		if m == "shared" {
			continue
		}
		paths, err := goList(filepath.Join(root, m), env, "./...")
		if err != nil {
			return nil, err
		}
		listed = append(listed, paths...)
	}
	keep := sharedPackages(listed, sharedModule)
	for {
		var patterns []string
		for _, dir := range keep {
			patterns = append(patterns, "./"+dir)
		}
		if len(patterns) == 0 {
			return nil, nil
		}
		paths, err := goList(filepath.Join(root, "shared"), env, patterns...)
		if err != nil {
			return nil, err
		}
		more := sharedPackages(append(paths, listed...), sharedModule)
		if len(more) == len(keep) {
			return keep, nil
		}
		keep = more
	}
}

// pruneShared deletes from the shared module at dir every package folder not in keep, and
// returns the folders it deleted. A folder with a kept package below it loses only its own files.
func pruneShared(dir string, keep []string) ([]string, error) {
	var packages []string // every folder holding Go files, relative to dir
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != dir {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".go") {
			rel, err := filepath.Rel(dir, filepath.Dir(path))
			if err != nil {
				return err
			}
			if rel = filepath.ToSlash(rel); !slices.Contains(packages, rel) {
				packages = append(packages, rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, p := range packages {
		if slices.Contains(keep, p) {
			continue
		}
		parentOfKept := slices.ContainsFunc(keep, func(k string) bool { return p == "." || strings.HasPrefix(k, p+"/") })
		if err := removePackage(filepath.Join(dir, filepath.FromSlash(p)), parentOfKept); err != nil {
			return nil, err
		}
		deleted = append(deleted, p)
	}
	slices.Sort(deleted)
	return deleted, nil
}

// removePackage deletes the package folder dir, or with filesOnly its files and testdata only.
func removePackage(dir string, filesOnly bool) error {
	if !filesOnly {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" || e.Name() == "go.mod" || e.Name() == "go.sum" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
