package template

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// traceActions are what Lambda's active tracing needs from a function's role to send the
// function's trace segments: AWSXrayWriteOnlyAccess, which SAM attaches to a role it generates,
// minus the sampling calls only an X-Ray SDK in the function makes.
var traceActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

// writesTraces reports whether the statement s allows only traceActions (one or both). They are
// the one exception to "no wildcard resource": X-Ray's actions have no resource types in AWS's
// Service Authorization Reference, so IAM matches them only on Resource "*".
func writesTraces(s statement) bool {
	if len(s.actions()) == 0 {
		return false
	}
	for _, a := range s.actions() {
		name, _ := a.(string)
		if !slices.ContainsFunc(traceActions, func(t string) bool { return strings.EqualFold(t, name) }) {
			return false
		}
	}
	return true
}

// checkFunctionsAreTraced: every function has Tracing: Active (itself or in Globals.Function),
// and the role it names grants both traceActions on "*": Lambda refuses to create or update a
// traced function whose role lacks them ("The provided execution role does not have permissions to
// call PutTraceSegments on XRAY"). A function without a role of its own is
// FunctionsHaveTheirOwnRoles's to report.
func checkFunctionsAreTraced(t *template.Template) []string {
	fns, out := functionsOf(t)
	policies := identityPolicies(t)
	for _, f := range fns {
		if mode, _ := f.Properties["Tracing"].(string); mode != "Active" {
			out = append(out, fmt.Sprintf("%s: Tracing is %s, not Active, so Lambda samples none of its invocations itself (PassThrough records only what a caller sampled)", f.LogicalID, show(f.Properties["Tracing"])))
		}
		role, attr, ok := getAttOf(f.Properties["Role"])
		if !ok || attr != "Arn" || t.Resources[role].Type != typeRole {
			continue
		}
		granted := map[string]bool{}
		for _, d := range policies {
			if !slices.Contains(d.governs, role) {
				continue
			}
			for _, s := range d.statements() {
				if s.denies() || !slices.Contains(s.resources(), template.Value("*")) {
					continue
				}
				for _, a := range s.actions() {
					pattern, _ := a.(string)
					for _, n := range traceActions {
						granted[n] = granted[n] || actionMatches(pattern, n)
					}
				}
			}
		}
		for _, n := range traceActions {
			if !granted[n] {
				out = append(out, fmt.Sprintf(`%s: grants %s no %s on "*", which active tracing needs to send its segments`, role, f.LogicalID, n))
			}
		}
	}
	return out
}
