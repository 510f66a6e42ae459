package sources

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebPages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<title>Upload a file</title><h1>uploads</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(filepath.Dir(dir), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	pages := WebPages{Dirs: map[string]string{"uploads": dir}, Others: map[string]string{"/.web/ops/": "Ops"}}
	tests := []struct {
		method, path string
		want         int
		body         string
	}{
		{"GET", "/.web/uploads/", 200, "<h1>uploads</h1>"},
		// The index links every page, a service's by its <title>.
		{"GET", "/.web/", 200, `<a href="/.web/uploads/">Upload a file</a>`},
		{"GET", "/.web/", 200, `<a href="/.web/ops/">Ops</a>`},
		{"POST", "/.web/", 404, ""},
		{"GET", "/.web/uploads/index.html", 301, ""}, // FileServer redirects index.html to the folder
		{"GET", "/.web/uploads/missing.js", 404, ""},
		{"GET", "/.web/other/", 404, ""},
		{"GET", "/.web/uploads/../secret.txt", 404, ""},
		{"POST", "/.web/uploads/", 404, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tt.method, "http://local"+WebPagesPath, nil)
		req.URL.Path = tt.path
		pages.ServeHTTP(rec, req)
		if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.body) || strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s %s = %d %q; want %d with %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.want, tt.body)
		}
	}
}
