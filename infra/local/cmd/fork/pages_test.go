package main

import "testing"

// TestDrivesAPage: a fork keeps the browser set-up when its service's end-to-end test drives a
// page, directly or through a helper that does (the jobs test reads the ops page this way).
func TestDrivesAPage(t *testing.T) {
	files := []string{
		"tests/e2e/helpers_test.go", "tests/e2e/viahelper_test.go", "tests/e2e/direct_test.go",
		"tests/e2e/named_test.go", "tests/e2e/apionly_test.go",
	}
	for service, want := range map[string]bool{
		"viahelper": true, "direct": true, "named": true, "apionly": false, "absent": false,
	} {
		got, err := drivesAPage("testdata/pages", service, files)
		if err != nil || got != want {
			t.Errorf("drivesAPage(%s) = %v, %v; want %v", service, got, err, want)
		}
	}
}
