package main

import "testing"

// TestDrivesAPage: a fork keeps the browser set-up when one of the end-to-end tests it keeps drives
// a page, directly or through helpers at any depth (the jobs test reads the ops page through
// readOpsPage, which calls runPageScript, which calls browser); a mention in a comment or a string
// is not a call.
func TestDrivesAPage(t *testing.T) {
	const dir = "tests/e2e/"
	for _, tt := range []struct {
		files []string
		want  bool
	}{
		{[]string{"helpers_test.go", "viahelper_test.go"}, true},
		{[]string{"helpers_test.go", "direct_test.go"}, true},
		{[]string{"helpers_test.go", "deeper_test.go"}, true},
		{[]string{"helpers_test.go", "apionly_test.go", "named_test.go"}, false},
		{[]string{"viahelper_test.go"}, false}, // readPage is not among the files kept
	} {
		var files []string
		for _, f := range tt.files {
			files = append(files, dir+f)
		}
		got, err := drivesAPage("testdata/pages", files)
		if err != nil || got != tt.want {
			t.Errorf("drivesAPage(%v) = %v, %v; want %v", tt.files, got, err, tt.want)
		}
	}
}
