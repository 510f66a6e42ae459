package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// Resource types the rules look at.
const (
	typeFunction   = template.TypeFunction
	typeHTTPAPI    = "AWS::Serverless::HttpApi"
	typeQueue      = "AWS::SQS::Queue"
	typeTopic      = "AWS::SNS::Topic"
	typeTable      = "AWS::DynamoDB::Table"
	typeBucket     = "AWS::S3::Bucket"
	typeLogGroup   = "AWS::Logs::LogGroup"
	typeAlarm      = "AWS::CloudWatch::Alarm"
	typeUserPool   = "AWS::Cognito::UserPool"
	typePoolClient = "AWS::Cognito::UserPoolClient"
)

// intrinsic returns the function name and argument of v when v is a long-form intrinsic function
// ({"Ref": x}, {"Fn::GetAtt": [...]}, {"Fn::Sub": ...}).
func intrinsic(v template.Value) (name string, arg template.Value, ok bool) {
	m, isMap := v.(map[string]template.Value)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// refersTo returns the logical IDs and parameter names v refers to through Ref, Fn::GetAtt and
// Fn::Sub anywhere inside it, sorted, without pseudo parameters (AWS::Region) and without
// Fn::Sub's own variables. It does not check that the names are declared.
func refersTo(v template.Value) []string {
	return template.References(v)
}

// resourcesIn returns the resources of t that v refers to (see refersTo), keeping only those of
// the given types when types are given, sorted.
func resourcesIn(t *template.Template, v template.Value, types ...string) []string {
	var out []string
	for _, name := range refersTo(v) {
		r, ok := t.Resources[name]
		if !ok {
			continue
		}
		if len(types) == 0 || slices.Contains(types, r.Type) {
			out = append(out, name)
		}
	}
	return out
}

// refOf returns the name v is exactly a Ref to.
func refOf(v template.Value) (string, bool) {
	name, arg, ok := intrinsic(v)
	if !ok || name != "Ref" {
		return "", false
	}
	s, ok := arg.(string)
	return s, ok && s != ""
}

// getAttOf returns the logical ID and attribute v is exactly a Fn::GetAtt of.
func getAttOf(v template.Value) (id, attr string, ok bool) {
	name, arg, isFn := intrinsic(v)
	if !isFn || name != "Fn::GetAtt" {
		return "", "", false
	}
	switch a := arg.(type) {
	case string:
		id, attr, _ = strings.Cut(a, ".")
	case []template.Value:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	}
	return id, attr, id != "" && attr != ""
}

// findInMapOf returns the map name and the two keys v is exactly a Fn::FindInMap of, when all three
// are plain strings (not themselves intrinsics, such as a !Ref of a parameter).
func findInMapOf(v template.Value) (mapName, topKey, secondKey string, ok bool) {
	name, arg, isFn := intrinsic(v)
	args, isList := arg.([]template.Value)
	if !isFn || name != "Fn::FindInMap" || !isList || len(args) != 3 {
		return "", "", "", false
	}
	keys := make([]string, 3)
	for i, a := range args {
		if keys[i], ok = a.(string); !ok || keys[i] == "" {
			return "", "", "", false
		}
	}
	return keys[0], keys[1], keys[2], true
}

// lookup follows keys down nested mappings; ok is false when a key is missing or a value on the
// way is not a plain mapping.
func lookup(v template.Value, keys ...string) (template.Value, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]template.Value)
		if !ok {
			return nil, false
		}
		if _, _, isFn := intrinsic(m); isFn {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// lookupFold is lookup for one key that matches case-insensitively: SAM documents JwtConfiguration's
// keys in lower case (issuer, audience) while CloudFormation spells them Issuer, Audience.
func lookupFold(v template.Value, key string) (template.Value, bool) {
	m, ok := v.(map[string]template.Value)
	if !ok {
		return nil, false
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, key) {
			return m[k], true
		}
	}
	return nil, false
}

// asMap returns v as a plain mapping, nil when it is not one (or is an intrinsic).
func asMap(v template.Value) map[string]template.Value {
	m, ok := v.(map[string]template.Value)
	if !ok {
		return nil
	}
	if _, _, isFn := intrinsic(m); isFn {
		return nil
	}
	return m
}

// stringAt returns the plain string at keys, "" when it is missing or not a string.
func stringAt(v template.Value, keys ...string) string {
	s, _ := lookup(v, keys...)
	str, _ := s.(string)
	return str
}

// asList returns v as a list: a list as it is, nothing as no elements, and any other value as a
// list of one (IAM's Action and Resource, like many properties, take either form).
func asList(v template.Value) []template.Value {
	switch x := v.(type) {
	case nil:
		return nil
	case []template.Value:
		return x
	default:
		return []template.Value{x}
	}
}

// isEmpty reports whether v is missing in practice: nil, "", an empty list or an empty mapping.
func isEmpty(v template.Value) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []template.Value:
		return len(x) == 0
	case map[string]template.Value:
		return len(x) == 0
	default:
		return false
	}
}

// show renders a value for a message as the template would write it: strings quoted, Ref, GetAtt,
// Sub and FindInMap in their short form (!GetAtt JobsQueue.Arn), anything else as compact JSON.
func show(v template.Value) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if id, ok := refOf(v); ok {
		return "!Ref " + id
	}
	if id, attr, ok := getAttOf(v); ok {
		return "!GetAtt " + id + "." + attr
	}
	if name, arg, ok := intrinsic(v); ok && name == "Fn::Sub" {
		if s, ok := arg.(string); ok {
			return "!Sub " + strconv.Quote(s)
		}
	}
	if m, top, second, ok := findInMapOf(v); ok {
		return fmt.Sprintf("!FindInMap [%s, %s, %s]", m, top, second)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// intOf resolves v with the template's parameter defaults and mappings and reads it as an integer,
// as CloudFormation does with numbers written as strings.
func intOf(t *template.Template, v template.Value) (int, error) {
	r, err := template.NewBindings(t, "", "").Resolve(v)
	if err != nil {
		return 0, fmt.Errorf("resolve %s: %w", show(v), err)
	}
	switch n := r.(type) {
	case int:
		return n, nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", show(n))
		}
		return i, nil
	default:
		return 0, fmt.Errorf("%s is not an integer", show(r))
	}
}

// stringOf resolves v with the template's parameter defaults and mappings and requires a scalar.
func stringOf(t *template.Template, v template.Value) (string, error) {
	return template.NewBindings(t, "", "").ResolveString(v)
}

// functionsOf returns the template's functions with Globals merged in; when the parser cannot type
// them, the problem is returned as the violation instead.
func functionsOf(t *template.Template) ([]template.Function, []string) {
	fns, err := t.Functions()
	if err != nil {
		return nil, []string{fmt.Sprintf("template: read functions: %v", err)}
	}
	return fns, nil
}

// withGlobals returns r's properties with Globals[kind] merged in the way SAM merges them: the
// resource wins for scalars and intrinsics, mappings merge key by key, lists concatenate globals
// first. (The parser does this for functions; the rules need it for HttpApi too.)
func withGlobals(t *template.Template, kind string, r template.Resource) map[string]template.Value {
	g, ok := t.Globals[kind]
	if !ok {
		return r.Properties
	}
	merged, _ := mergeGlobal(g, r.Properties).(map[string]template.Value)
	return merged
}

// mergeGlobal merges one Globals value with a resource's own value; see withGlobals.
func mergeGlobal(global, local template.Value) template.Value {
	gm, gIsMap := global.(map[string]template.Value)
	lm, lIsMap := local.(map[string]template.Value)
	_, _, gFn := intrinsic(global)
	_, _, lFn := intrinsic(local)
	if gIsMap && lIsMap && !gFn && !lFn {
		out := make(map[string]template.Value, len(gm)+len(lm))
		for k, v := range gm {
			out[k] = v
		}
		for k, v := range lm {
			if gv, ok := gm[k]; ok {
				out[k] = mergeGlobal(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gIsList := global.([]template.Value)
	ll, lIsList := local.([]template.Value)
	if gIsList && lIsList {
		return append(append([]template.Value{}, gl...), ll...)
	}
	return local
}

// walk calls visit for v and every value nested in it, with its path from v (Properties.A.B[2]);
// mapping keys are visited in sorted order so messages come out in a stable order.
func walk(v template.Value, path string, visit func(path string, v template.Value)) {
	visit(path, v)
	switch x := v.(type) {
	case map[string]template.Value:
		for _, k := range sortedKeys(x) {
			walk(x[k], joinPath(path, k), visit)
		}
	case []template.Value:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), visit)
		}
	}
}

// joinPath appends key to a dotted path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// routeKey is the API Gateway route key an HttpApi event declares: "METHOD /path", or "$default"
// when it gives neither (SAM's catch-all route).
func routeKey(e template.Event) string {
	method, _ := e.Properties["Method"].(string)
	path, _ := e.Properties["Path"].(string)
	if method == "" && path == "" {
		return "$default"
	}
	if method == "" {
		method = "ANY"
	}
	return strings.ToUpper(method) + " " + path
}
