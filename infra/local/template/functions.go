package template

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TypeFunction is the resource type of a SAM function.
const TypeFunction = "AWS::Serverless::Function"

// SAM's defaults for properties a function may leave out.
const (
	defaultTimeout  = 3 * time.Second
	defaultMemoryMB = 128
)

// OfType returns the resources of type typ, sorted by logical ID.
func (t *Template) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Functions returns every AWS::Serverless::Function with Globals.Function merged into it,
// sorted by logical ID.
//
// Typed fields (Timeout, MemorySize, ReservedConcurrentExecutions, LoggingConfig, CodeUri) may be
// literals or intrinsics that resolve from the template alone (a Ref to a parameter's default,
// Fn::If on a condition over defaults); anything needing a provisioned resource is an error.
func (t *Template) Functions() ([]Function, error) {
	static := NewBindings(t, "", "")
	var out []Function
	for _, r := range t.OfType(TypeFunction) {
		f, err := t.function(r, static)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", r.LogicalID, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// WithGlobals returns a copy of r's properties with SAM's Globals for its type merged in
// (Globals.Function for an AWS::Serverless::Function, Globals.HttpApi for an
// AWS::Serverless::HttpApi, ...). The template's Globals apply to the root template's own
// resources only: LoadApp merged each nested template's Globals into its resources already.
func (t *Template) WithGlobals(r Resource) map[string]Value {
	if r.Stack != "" {
		props, _ := deepCopy(r.Properties).(map[string]Value)
		return props
	}
	return withGlobals(t.Globals, r)
}

// withGlobals returns a copy of r's properties with the entry of globals for its type merged in.
func withGlobals(globals map[string]map[string]Value, r Resource) map[string]Value {
	// Copies, so that no two resources (nor the template) share a map a caller might change.
	props, _ := deepCopy(r.Properties).(map[string]Value)
	kind, serverless := strings.CutPrefix(r.Type, "AWS::Serverless::")
	if g, ok := globals[kind]; ok && serverless {
		props, _ = mergeGlobal(deepCopy(g), props).(map[string]Value)
	}
	return props
}

// function types one function resource.
func (t *Template) function(r Resource, static *Bindings) (Function, error) {
	props := t.WithGlobals(r)
	f := Function{
		LogicalID:   r.LogicalID,
		Stack:       r.Stack,
		Timeout:     defaultTimeout,
		MemoryMB:    defaultMemoryMB,
		Environment: map[string]Value{},
		Properties:  props,
	}

	name, err := PackageName(r.LogicalID)
	if err != nil {
		return Function{}, err
	}
	code, ok := props["CodeUri"]
	if !ok {
		return Function{}, fmt.Errorf("no CodeUri: the local runner builds functions from source directories")
	}
	if _, isMap := code.(map[string]Value); isMap && !isIntrinsic(code) {
		return Function{}, fmt.Errorf("CodeUri is an S3 location: the local runner builds functions from source directories")
	}
	uri, err := static.ResolveString(code)
	if err != nil {
		return Function{}, fmt.Errorf("resolve CodeUri: %w", err)
	}
	f.CodeURI = filepath.Clean(uri)
	f.Package = filepath.Join(f.CodeURI, "cmd", name)

	if v, ok := props["Timeout"]; ok {
		s, err := static.intOf(v)
		if err != nil {
			return Function{}, fmt.Errorf("Timeout: %w", err)
		}
		f.Timeout = time.Duration(s) * time.Second
	}
	if v, ok := props["MemorySize"]; ok {
		if f.MemoryMB, err = static.intOf(v); err != nil {
			return Function{}, fmt.Errorf("MemorySize: %w", err)
		}
	}
	if v, ok := props["ReservedConcurrentExecutions"]; ok {
		if f.ReservedConcurrency, err = static.intOf(v); err != nil {
			return Function{}, fmt.Errorf("ReservedConcurrentExecutions: %w", err)
		}
	}
	if v, ok := props["LoggingConfig"]; ok {
		lc, ok := v.(map[string]Value)
		if !ok || isIntrinsic(lc) {
			return Function{}, fmt.Errorf("LoggingConfig is not a mapping")
		}
		if v, ok := lc["LogFormat"]; ok {
			if f.LogFormat, err = static.ResolveString(v); err != nil {
				return Function{}, fmt.Errorf("LoggingConfig.LogFormat: %w", err)
			}
		}
		if v, ok := lc["ApplicationLogLevel"]; ok {
			if f.LogLevel, err = static.ResolveString(v); err != nil {
				return Function{}, fmt.Errorf("LoggingConfig.ApplicationLogLevel: %w", err)
			}
		}
	}
	if v, ok := props["Environment"]; ok {
		// Intrinsics may give each variable's value, not the whole set: the runner resolves
		// values one by one, after provisioning.
		env, ok := v.(map[string]Value)
		if !ok || isIntrinsic(env) {
			return Function{}, fmt.Errorf("Environment is not a mapping with Variables")
		}
		if vars, ok := env["Variables"]; ok && vars != nil {
			if f.Environment, ok = vars.(map[string]Value); !ok || isIntrinsic(vars) {
				return Function{}, fmt.Errorf("Environment.Variables is not a mapping")
			}
		}
	}
	if v, ok := props["Events"]; ok && v != nil {
		events, ok := v.(map[string]Value)
		if !ok || isIntrinsic(events) {
			return Function{}, fmt.Errorf("Events is not a mapping")
		}
		for name, e := range events {
			em, ok := e.(map[string]Value)
			if !ok {
				return Function{}, fmt.Errorf("event %s is not a mapping", name)
			}
			typ, _ := em["Type"].(string)
			if typ == "" {
				return Function{}, fmt.Errorf("event %s has no Type", name)
			}
			ev := Event{Name: name, Type: typ, Properties: map[string]Value{}}
			if p, ok := em["Properties"]; ok && p != nil {
				if ev.Properties, ok = p.(map[string]Value); !ok {
					return Function{}, fmt.Errorf("event %s: Properties is not a mapping", name)
				}
			}
			f.Events = append(f.Events, ev)
		}
		sort.Slice(f.Events, func(i, j int) bool { return f.Events[i].Name < f.Events[j].Name })
	}
	return f, nil
}

// PackageName is the directory name under <CodeUri>/cmd that holds a function's main package:
// the logical ID without its "Function" suffix, in kebab case (SubmitJobFunction → submit-job,
// GetURLFunction → get-url, ResizeS3ImageFunction → resize-s3-image).
func PackageName(logicalID string) (string, error) {
	base, ok := strings.CutSuffix(logicalID, "Function")
	if !ok || base == "" {
		return "", fmt.Errorf("logical ID %q does not follow the <Name>Function convention that maps a function to <CodeUri>/cmd/<name>", logicalID)
	}
	rs := []rune(base)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			// A word starts at an upper-case letter after a lower-case letter or digit, or at the
			// last capital of an initialism followed by lower case (URLParser → url-parser).
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String(), nil
}

// mergeGlobal merges a Globals value with a resource's own, following SAM's rules: the resource
// wins for scalars, for intrinsics and when the kinds differ; maps merge key by key; lists are
// concatenated, globals first.
func mergeGlobal(global, local Value) Value {
	gk, lk := mergeKind(global), mergeKind(local)
	switch {
	case gk != lk || gk == kindScalar:
		return local
	case gk == kindMap:
		g, l := global.(map[string]Value), local.(map[string]Value)
		out := make(map[string]Value, len(g)+len(l))
		for k, v := range g {
			out[k] = v
		}
		for k, v := range l {
			if gv, ok := g[k]; ok {
				out[k] = mergeGlobal(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	default:
		g, l := global.([]Value), local.([]Value)
		out := make([]Value, 0, len(g)+len(l))
		return append(append(out, g...), l...)
	}
}

type kind int

const (
	kindScalar kind = iota
	kindMap
	kindList
)

// mergeKind classifies a value for mergeGlobal; an intrinsic counts as a scalar.
func mergeKind(v Value) kind {
	switch v.(type) {
	case map[string]Value:
		if isIntrinsic(v) {
			return kindScalar
		}
		return kindMap
	case []Value:
		return kindList
	default:
		return kindScalar
	}
}

// intOf resolves v and reads it as an integer; CloudFormation accepts numbers written as strings.
func (b *Bindings) intOf(v Value) (int, error) {
	r, err := b.Resolve(v)
	if err != nil {
		return 0, err
	}
	switch n := r.(type) {
	case int:
		return n, nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", n)
		}
		return i, nil
	default:
		return 0, fmt.Errorf("%v is not an integer", r)
	}
}

// deepCopy copies maps and lists recursively; scalars are values already.
func deepCopy(v Value) Value {
	switch x := v.(type) {
	case map[string]Value:
		out := make(map[string]Value, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []Value:
		out := make([]Value, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
