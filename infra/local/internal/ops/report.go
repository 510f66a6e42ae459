package ops

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// PagePath is where the runner serves the page, beside the services' pages under /.web/.
const PagePath = "/.web/ops/"

//go:embed page
var page embed.FS

// Handler serves the page at PagePath and the collector's snapshot at PagePath + "data.json".
// It asks for no token: it exists only in the local runner, which listens on 127.0.0.1, and shows
// counts and timings, never a payload.
func (c *Collector) Handler() http.Handler {
	files, err := fs.Sub(page, "page")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PagePath+"data.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(c.Snapshot())
	})
	mux.Handle("GET "+PagePath, http.StripPrefix(PagePath, http.FileServerFS(files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// WriteTable writes the snapshot as plain-text tables, one per kind of signal.
func (s Snapshot) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Signals seen locally from %s to %s (%s)\n", s.Since.Format("15:04:05"), s.At.Format("15:04:05"), s.At.Sub(s.Since).Round(time.Second))
	var functions [][]string
	for _, f := range s.Functions {
		functions = append(functions, []string{f.Name, strconv.Itoa(f.Invocations), strconv.Itoa(f.Errors), strconv.Itoa(f.Throttles), strconv.Itoa(f.ColdStarts), fmt.Sprintf("%.1f", f.P50Ms), fmt.Sprintf("%.1f", f.P99Ms)})
	}
	var queues [][]string
	for _, q := range s.Queues {
		queues = append(queues, []string{q.Name, count(q.Visible), count(q.InFlight), strconv.Itoa(q.Received), strconv.FormatInt(q.OldestAgeMs, 10)})
	}
	var metrics [][]string
	for _, m := range s.Metrics {
		metrics = append(metrics, []string{m.Namespace, m.Name, m.Dimensions, m.Unit, strconv.Itoa(m.Count), fmt.Sprint(m.Sum), fmt.Sprint(m.Min), fmt.Sprint(m.Max)})
	}
	var faults [][]string
	for _, f := range s.Faults {
		faults = append(faults, []string{f.Kind, strconv.Itoa(f.Count)})
	}
	for _, t := range []struct {
		title  string
		header []string
		rows   [][]string
	}{
		{"Functions", []string{"function", "invocations", "errors", "throttles", "cold starts", "p50 ms", "p99 ms"}, functions},
		{"Queues", []string{"queue", "visible", "in flight", "received", "oldest age ms"}, queues},
		{"Metrics (EMF)", []string{"namespace", "metric", "dimensions", "unit", "count", "sum", "min", "max"}, metrics},
		{"Faults injected", []string{"kind", "count"}, faults},
	} {
		fmt.Fprintf(w, "\n%s\n", t.title)
		if len(t.rows) == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+strings.Join(t.header, "\t"))
		for _, row := range t.rows {
			fmt.Fprintln(tw, "  "+strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func count(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}
