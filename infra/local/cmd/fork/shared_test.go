package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSharedPackages(t *testing.T) {
	listed := []string{
		"context",
		"github.com/aws/aws-lambda-go/lambda",
		"example.com/jobs/shared/logging",
		"example.com/jobs/shared/budget [example.com/jobs/services/jobs/internal/jobs.test]",
		"example.com/jobs/shared/httpapi_test",
		"example.com/jobs/shared/clock.test",
		"example.com/jobs/shared/logging", // twice: once
		"example.com/jobs/shared/x/y",
		"example.com/jobs/services/jobs/internal/jobs",
		"example.com/jobs/sharedother/z", // another module that merely starts the same
	}
	got := sharedPackages(listed, "example.com/jobs/shared")
	want := []string{"budget", "clock", "httpapi", "logging", "x/y"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPruneShared(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{
		"go.mod",
		"budget/budget.go", "budget/testdata/event.json",
		"idempotency/idempotency.go", "idempotency/testdata/event.json",
		"x/x.go", "x/testdata/a.json", "x/y/y.go",
		"docs/notes.md", // no package: left alone
	} {
		path := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	deleted, err := pruneShared(dir, []string{"budget", "x/y"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"idempotency", "x"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted: got %v, want %v", deleted, want)
	}
	var left []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			left = append(left, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// x holds the kept x/y: it loses its own files and test data, not the folder below it.
	want := []string{"budget/budget.go", "budget/testdata/event.json", "docs/notes.md", "go.mod", "x/y/y.go"}
	if !slices.Equal(left, want) {
		t.Errorf("left: got %v, want %v", left, want)
	}
}
