package sources

import (
	"html/template"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// WebPagesPath is where the runner serves static pages. It starts with a dot so it cannot clash
// with an API route: API paths are the template's, and none starts with "/.".
const WebPagesPath = "/.web/"

// WebPages serves each service's static pages (its web/ folder) at /.web/<service>/, standing in
// for where a deployed application would host them (S3 behind CloudFront). A page is served from
// the API's origin, so its calls to the API need no CORS; its requests to S3 do, as in AWS.
// WebPagesPath itself is an index of the pages, the URL `make run` prints as PAGES_URL.
type WebPages struct {
	// Dirs maps a service name to the folder holding its pages.
	Dirs map[string]string
	// Others are pages served by other handlers under WebPagesPath (the runner's ops page),
	// listed in the index too: path → title.
	Others map[string]string
}

// ServeHTTP serves the index, or a file of a service's folder; directories serve their index.html.
func (p WebPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == WebPagesPath {
		p.serveIndex(w)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, WebPagesPath)
	service, _, _ := strings.Cut(rest, "/")
	dir, ok := p.Dirs[service]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// os.DirFS refuses paths that leave the folder ("..").
	http.StripPrefix(WebPagesPath+service, http.FileServerFS(os.DirFS(dir))).ServeHTTP(w, r)
}

// indexPage lists the pages: plain links, and the token every page shares (see TokenPath).
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Local pages</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
    li { margin: .5rem 0; }
    code { background: #f4f4f4; padding: 0 .2rem; }
  </style>
</head>
<body>
  <h1>Pages of the local stack</h1>
  <p>Served by <code>make run</code> only; the API they call is this origin.</p>
  <ul id="pages">
{{- range .}}
    <li><a href="{{.Path}}">{{.Title}}</a> <code>{{.Path}}</code></li>
{{- end}}
  </ul>
  <p>A service's page asks for an access token: paste one from <code>make -s token USER=alice</code>,
    or let the page mint one for a user name (a button that works under <code>make run</code> only).
    The token is kept for this browser tab, so every page opened in it uses it.</p>
</body>
</html>
`))

// indexEntry is one page in the index.
type indexEntry struct{ Path, Title string }

// serveIndex writes the index: every service's page by service name, then the others.
func (p WebPages) serveIndex(w http.ResponseWriter) {
	var entries []indexEntry
	for _, service := range slices.Sorted(maps.Keys(p.Dirs)) {
		entries = append(entries, indexEntry{Path: WebPagesPath + service + "/", Title: pageTitle(p.Dirs[service], service)})
	}
	for _, path := range slices.Sorted(maps.Keys(p.Others)) {
		entries = append(entries, indexEntry{Path: path, Title: p.Others[path]})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, entries)
}

var titleTag = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>`)

// pageTitle is the <title> of a service's index.html, or the service's name.
func pageTitle(dir, service string) string {
	data, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return service
	}
	if m := titleTag.FindSubmatch(data); m != nil && len(m[1]) > 0 {
		return string(m[1])
	}
	return service
}
