package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestForkKeepsTheBrowserForAServiceWithAPageTest: every fork keeps the harness's index page test
// and its script, so every fork keeps tests/browser; a fork also keeps the page scripts its
// service's tests name. It runs over the services of this repository (in a fork, the one service).
func TestForkKeepsTheBrowserForAServiceWithAPageTest(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	all, err := repositoryFiles(repo)
	if err != nil {
		t.Fatal(err)
	}
	scripts := regexp.MustCompile(`"(\w+_page\.cjs)"`)
	for _, service := range serviceNames(all) {
		t.Run(service, func(t *testing.T) {
			own, err := os.ReadFile(filepath.Join(repo, "tests", "e2e", service+"_test.go"))
			if err != nil {
				t.Fatal(err)
			}
			named := scripts.FindAllSubmatch(own, -1)
			files, pageTest, err := forkFiles(repo, service)
			if err != nil {
				t.Fatal(err)
			}
			browser := slices.Contains(files, "tests/browser/package-lock.json")
			if !pageTest || !browser {
				t.Errorf("page test %v, tests/browser kept %v; want both: the index page test is kept in every fork", pageTest, browser)
			}
			for _, m := range named {
				if f := "tests/e2e/testdata/" + string(m[1]); !slices.Contains(files, f) {
					t.Errorf("%s left out", f)
				}
			}
			if !slices.Contains(files, "tests/e2e/pages_test.go") || !slices.Contains(files, "tests/e2e/testdata/index_page.cjs") {
				t.Errorf("the harness's page test or its script left out")
			}
		})
	}
}
