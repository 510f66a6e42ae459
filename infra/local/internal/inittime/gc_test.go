package inittime

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// gcLine is a line GODEBUG=gctrace=1 writes for a garbage collection ("gc 1 @0.004s 10%: ...").
var gcLine = regexp.MustCompile(`(?m)^gc \d+ @`)

// TestFlagFunctionsCollectNoGarbageInTheirColdStart holds the pricing functions that evaluate the
// flag to what their template's GOGC is for (services/pricing/README.md, Cold start): no garbage
// collection runs between exec and the first request for work. At Go's default of 100 one often
// does, as the flag client's start crosses the first 4 MB goal near the first request; at 50 (a
// 2 MB goal, below what package initialisation alone allocates) one always does, which the test
// checks too, so that it can see a collection when there is one.
func TestFlagFunctionsCollectNoGarbageInTheirColdStart(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.LoadApp(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var fns []template.Function
	for _, fn := range all {
		if fn.LogicalID == "GetPriceFunction" || fn.LogicalID == "SubmitQuoteFunction" {
			fns = append(fns, fn)
		}
	}
	if len(fns) == 0 {
		t.Skip("no pricing functions in this template (a fork of another service)")
	}
	params, err := LocalParameters(root)
	if err != nil {
		t.Fatal(err)
	}
	local, err := Bindings(tmpl, params)
	if err != nil {
		t.Fatal(err)
	}
	binaries, err := BuildFunctions(context.Background(), root, t.TempDir(), fns)
	if err != nil {
		t.Fatal(err)
	}
	collections := func(fn template.Function, env map[string]string) int {
		t.Helper()
		var out bytes.Buffer
		p := Program{Name: fn.LogicalID, Executable: binaries[fn.LogicalID], Env: env, MemoryMB: fn.MemoryMB, Output: &out}
		if _, err := Start(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		return len(gcLine.FindAllString(out.String(), -1))
	}
	for _, fn := range fns {
		env, err := Environment(local, fn)
		if err != nil {
			t.Fatal(err)
		}
		if env["GOGC"] == "" {
			t.Errorf("%s sets no GOGC in the template", fn.LogicalID)
			continue
		}
		env["GODEBUG"] = "gctrace=1"
		if n := collections(fn, env); n != 0 {
			t.Errorf("%s with GOGC=%s: %d garbage collections before its first request for work; want none", fn.LogicalID, env["GOGC"], n)
		}
		lower := maps.Clone(env)
		lower["GOGC"] = "50"
		if n := collections(fn, lower); n == 0 {
			t.Errorf("%s with GOGC=50: no garbage collection before its first request for work; the test cannot see one", fn.LogicalID)
		}
	}
}
