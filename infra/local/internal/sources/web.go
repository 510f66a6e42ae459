package sources

import (
	"net/http"
	"os"
	"strings"
)

// WebPagesPath is where the runner serves static pages. It starts with a dot so it cannot clash
// with an API route: API paths are the template's, and none starts with "/.".
const WebPagesPath = "/.web/"

// WebPages serves each service's static pages (its web/ folder) at /.web/<service>/, standing in
// for where a deployed application would host them (S3 behind CloudFront). A page is served from
// the API's origin, so its calls to the API need no CORS; its requests to S3 do, as in AWS.
type WebPages struct {
	// Dirs maps a service name to the folder holding its pages.
	Dirs map[string]string
}

// ServeHTTP serves a file of a service's folder; directories serve their index.html.
func (p WebPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, WebPagesPath)
	service, _, _ := strings.Cut(rest, "/")
	dir, ok := p.Dirs[service]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// os.DirFS refuses paths that leave the folder ("..").
	http.StripPrefix(WebPagesPath+service, http.FileServerFS(os.DirFS(dir))).ServeHTTP(w, r)
}
