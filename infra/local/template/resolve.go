package template

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// AccountID is the account every local ARN names, the one DynamoDB Local also uses.
const AccountID = "000000000000"

// Partition and URLSuffix are the values of the AWS::Partition and AWS::URLSuffix pseudo parameters.
const (
	Partition = "aws"
	URLSuffix = "amazonaws.com"
)

// maxDepth bounds how deeply intrinsics may nest, so a self-referencing template fails
// with an error instead of overflowing the stack.
const maxDepth = 64

// noValue is what AWS::NoValue resolves to before the enclosing map or list drops it.
type noValue struct{}

// Bindings holds what intrinsics resolve to on a local run: parameter values, pseudo parameters,
// and the local name, URL or ARN of each provisioned resource (set by the provisioner, or by the
// runner for resources it serves itself). It is safe for concurrent use.
type Bindings struct {
	t         *Template
	stackName string
	region    string

	mu     sync.RWMutex
	params map[string]string
	refs   map[string]string
	atts   map[string]map[string]string
}

// NewBindings returns bindings for t deployed locally as stackName in region, with every
// parameter at its default.
func NewBindings(t *Template, stackName, region string) *Bindings {
	b := &Bindings{
		t:         t,
		stackName: stackName,
		region:    region,
		params:    map[string]string{},
		refs:      map[string]string{},
		atts:      map[string]map[string]string{},
	}
	for name, p := range t.Parameters {
		if s, ok := parameterString(p.Default); ok {
			b.params[name] = s
		}
	}
	return b
}

// parameterString is a literal parameter value as CloudFormation hands it to a template: a
// string, numbers and booleans as written, a list as "a,b". It reports false for nil.
func parameterString(v Value) (string, bool) {
	switch d := v.(type) {
	case nil:
		return "", false
	case string:
		return d, true
	case bool:
		return strconv.FormatBool(d), true
	case []Value:
		// A list default is written as a YAML list now and then; CloudFormation wants "a,b".
		parts := make([]string, 0, len(d))
		for _, e := range d {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ","), true
	default:
		if s, ok := formatNumber(d); ok {
			return s, true
		}
		return fmt.Sprint(d), true
	}
}

// StackName is the local stack name: the AWS::StackName pseudo parameter.
func (b *Bindings) StackName() string { return b.stackName }

// StackNameOf is the name of the stack a resource belongs to (Resource.Stack): the stack name for
// the root template's own resources, the nested stack's name (NestedStackName) for a nested
// application's. It is "" while the stack name is.
func (b *Bindings) StackNameOf(stack string) string {
	if stack == "" || b.stackName == "" {
		return b.stackName
	}
	name := b.stackName
	for _, app := range strings.Split(stack, ".") {
		name = NestedStackName(name, app)
	}
	return name
}

// Region is the local region: the AWS::Region pseudo parameter.
func (b *Bindings) Region() string { return b.region }

// SetParameter overrides a declared parameter's value. For list types (CommaDelimitedList,
// List<...>) value is comma-separated, as on the command line of `sam deploy`.
func (b *Bindings) SetParameter(name, value string) error {
	if _, ok := b.t.Parameters[name]; !ok {
		return fmt.Errorf("set parameter %s: the template declares no such parameter", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.params[name] = value
	return nil
}

// SetRef records what Ref logicalID resolves to.
func (b *Bindings) SetRef(logicalID, value string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refs[logicalID] = value
}

// SetAtt records what Fn::GetAtt [logicalID, attr] resolves to.
func (b *Bindings) SetAtt(logicalID, attr, value string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.atts[logicalID] == nil {
		b.atts[logicalID] = map[string]string{}
	}
	b.atts[logicalID][attr] = value
}

// HasRef reports whether Ref logicalID has a value set by SetRef.
func (b *Bindings) HasRef(logicalID string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, ok := b.refs[logicalID]
	return ok
}

// HasAtt reports whether Fn::GetAtt [logicalID, attr] has a value set by SetAtt.
func (b *Bindings) HasAtt(logicalID, attr string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, ok := b.atts[logicalID][attr]
	return ok
}

// Resolve returns v with every intrinsic function replaced by its local value. Maps and lists
// are copied, never changed in place. An entry that resolves to AWS::NoValue is dropped from its
// map or list; a v that is AWS::NoValue itself resolves to nil.
func (b *Bindings) Resolve(v Value) (Value, error) {
	r, err := b.resolve(v, 0)
	if err != nil {
		return nil, err
	}
	if _, ok := r.(noValue); ok {
		return nil, nil
	}
	return r, nil
}

// ResolveString resolves v and requires a scalar; numbers and booleans are rendered as
// CloudFormation renders them ("30", "true").
func (b *Bindings) ResolveString(v Value) (string, error) {
	r, err := b.resolve(v, 0)
	if err != nil {
		return "", err
	}
	return scalarString(r)
}

// Condition evaluates the named entry of the template's Conditions section.
func (b *Bindings) Condition(name string) (bool, error) {
	return b.condition(name, map[string]bool{}, 0)
}

// References returns the names v refers to through Ref, Fn::GetAtt and Fn::Sub: logical IDs
// and parameter names, sorted, without pseudo parameters and without Fn::Sub's own variables.
func References(v Value) []string {
	seen := map[string]bool{}
	collectReferences(v, seen)
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func collectReferences(v Value, seen map[string]bool) {
	switch x := v.(type) {
	case []Value:
		for _, e := range x {
			collectReferences(e, seen)
		}
	case map[string]Value:
		if len(x) == 1 {
			if arg, ok := x["Ref"]; ok {
				if s, ok := arg.(string); ok && !isPseudo(s) {
					seen[s] = true
				}
				return
			}
			if arg, ok := x["Fn::GetAtt"]; ok {
				switch a := arg.(type) {
				case string:
					id, _, _ := strings.Cut(a, ".")
					seen[id] = true
				case []Value:
					if len(a) > 0 {
						if id, ok := a[0].(string); ok {
							seen[id] = true
						}
					}
				}
				return
			}
			if arg, ok := x["Fn::Sub"]; ok {
				var tmpl string
				vars := map[string]Value{}
				switch a := arg.(type) {
				case string:
					tmpl = a
				case []Value:
					if len(a) > 0 {
						tmpl, _ = a[0].(string)
					}
					if len(a) > 1 {
						vars, _ = a[1].(map[string]Value)
						collectReferences(a[1], seen)
					}
				}
				for _, name := range subVariables(tmpl) {
					if _, isVar := vars[name]; isVar || isPseudo(name) {
						continue
					}
					id, _, _ := strings.Cut(name, ".")
					seen[id] = true
				}
				return
			}
		}
		for _, e := range x {
			collectReferences(e, seen)
		}
	}
}

// isPseudo reports whether name is a pseudo parameter: AWS::Region, or a nested stack's own
// AWS::StackName written as "<app path>.AWS::StackName" (see LoadApp).
func isPseudo(name string) bool {
	return strings.HasPrefix(name, "AWS::") || strings.Contains(name, ".AWS::")
}

// subVariables lists the ${...} names in a Fn::Sub template, leaving out ${!Literal} escapes.
func subVariables(tmpl string) []string {
	var names []string
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			return names
		}
		rest := tmpl[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			return names
		}
		if name := strings.TrimSpace(rest[:j]); !strings.HasPrefix(name, "!") {
			names = append(names, name)
		}
		tmpl = rest[j+1:]
	}
}

// call runs the intrinsic function name on its unresolved argument.
func (b *Bindings) call(name string, arg Value, depth int) (Value, error) {
	switch name {
	case "Ref":
		return b.ref(arg, depth)
	case "Fn::GetAtt":
		return b.getAtt(arg, depth)
	case "Fn::Sub":
		return b.sub(arg, depth)
	case "Fn::Join":
		return b.join(arg, depth)
	case "Fn::Select":
		return b.selectFn(arg, depth)
	case "Fn::Split":
		return b.split(arg, depth)
	case "Fn::If":
		return b.ifFn(arg, depth)
	case "Fn::FindInMap":
		return b.findInMap(arg, depth)
	case "Fn::GetAZs":
		return b.getAZs(arg, depth)
	case "Fn::Base64":
		return b.base64(arg, depth)
	case "Fn::ToJsonString":
		return b.toJSONString(arg, depth)
	case "Fn::Length":
		return b.length(arg, depth)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		// A condition function used as a value resolves to its boolean result.
		return b.evalCondition(map[string]Value{name: arg}, map[string]bool{}, depth)
	default:
		return nil, fmt.Errorf("%s: not supported by the local runner", name)
	}
}

// isIntrinsic reports whether v is a single-key map whose key names an intrinsic function.
func isIntrinsic(v Value) bool {
	m, ok := v.(map[string]Value)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func (b *Bindings) resolve(v Value, depth int) (Value, error) {
	if depth > maxDepth {
		return nil, errors.New("intrinsic functions nest too deeply (a cycle?)")
	}
	switch x := v.(type) {
	case map[string]Value:
		if isIntrinsic(x) {
			for name, arg := range x {
				return b.call(name, arg, depth+1)
			}
		}
		out := make(map[string]Value, len(x))
		for k, e := range x {
			r, err := b.resolve(e, depth+1)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []Value:
		out := make([]Value, 0, len(x))
		for _, e := range x {
			r, err := b.resolve(e, depth+1)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

// resolveString resolves v at depth and requires a scalar.
func (b *Bindings) resolveString(v Value, depth int) (string, error) {
	r, err := b.resolve(v, depth)
	if err != nil {
		return "", err
	}
	return scalarString(r)
}

// resolveList resolves v at depth and requires a list.
func (b *Bindings) resolveList(v Value, depth int) ([]Value, error) {
	r, err := b.resolve(v, depth)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]Value)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", r)
	}
	return l, nil
}

// args requires arg to be a list of n elements.
func args(fn string, arg Value, n int) ([]Value, error) {
	l, ok := arg.([]Value)
	if !ok || len(l) != n {
		return nil, fmt.Errorf("%s: want a list of %d arguments, got %v", fn, n, arg)
	}
	return l, nil
}

func (b *Bindings) ref(arg Value, depth int) (Value, error) {
	name, err := b.resolveString(arg, depth)
	if err != nil {
		return nil, fmt.Errorf("Ref: %w", err)
	}
	v, err := b.lookupRef(name)
	if err != nil {
		return nil, fmt.Errorf("Ref %s: %w", name, err)
	}
	return v, nil
}

// lookupRef returns what Ref name resolves to: a string, a list for list parameters,
// or noValue for AWS::NoValue.
func (b *Bindings) lookupRef(name string) (Value, error) {
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::Region":
		if b.region == "" {
			return nil, errors.New("no region is known here")
		}
		return b.region, nil
	case "AWS::StackName":
		if b.stackName == "" {
			return nil, errors.New("no stack name is known here")
		}
		return b.stackName, nil
	case "AWS::StackId":
		if b.region == "" || b.stackName == "" {
			return nil, errors.New("no stack is known here")
		}
		return b.StackID(""), nil
	case "AWS::AccountId":
		return AccountID, nil
	case "AWS::Partition":
		return Partition, nil
	case "AWS::URLSuffix":
		return URLSuffix, nil
	case "AWS::NotificationARNs":
		return []Value{}, nil
	}
	if stack, pseudo, ok := strings.Cut(name, ".AWS::"); ok {
		return b.nestedPseudo(stack, "AWS::"+pseudo)
	}
	if p, ok := b.t.Parameters[name]; ok {
		b.mu.RLock()
		v, set := b.params[name]
		b.mu.RUnlock()
		if !set {
			return nil, errors.New("parameter has no default and was not set")
		}
		if p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") {
			parts := strings.Split(v, ",")
			l := make([]Value, len(parts))
			for i, s := range parts {
				l[i] = strings.TrimSpace(s)
			}
			return l, nil
		}
		return v, nil
	}
	b.mu.RLock()
	v, ok := b.refs[name]
	b.mu.RUnlock()
	if ok {
		return v, nil
	}
	if r, ok := b.t.Resources[name]; ok {
		return nil, fmt.Errorf("resource %s (%s) has no local value", name, r.Type)
	}
	return nil, fmt.Errorf("the template declares no parameter or resource %s", name)
}

// StackID is the AWS::StackId of the stack a resource belongs to (see StackNameOf). The stack's
// UUID is all zeros: nothing local tells stacks apart by it.
func (b *Bindings) StackID(stack string) string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
		Partition, b.region, AccountID, b.StackNameOf(stack))
}

// nestedPseudo resolves a nested stack's AWS::StackName or AWS::StackId, which LoadApp writes as
// a Ref to "<app path>.AWS::StackName".
func (b *Bindings) nestedPseudo(stack, pseudo string) (Value, error) {
	if _, ok := b.t.Apps[stack]; !ok {
		return nil, fmt.Errorf("the template has no nested application %s", stack)
	}
	switch pseudo {
	case "AWS::StackName":
		if b.stackName == "" {
			return nil, errors.New("no stack name is known here")
		}
		return b.StackNameOf(stack), nil
	case "AWS::StackId":
		if b.region == "" || b.stackName == "" {
			return nil, errors.New("no stack is known here")
		}
		return b.StackID(stack), nil
	default:
		return nil, fmt.Errorf("%s is not a pseudo parameter of a nested stack", pseudo)
	}
}

func (b *Bindings) getAtt(arg Value, depth int) (Value, error) {
	var id, attr string
	switch a := arg.(type) {
	case string:
		id, attr, _ = strings.Cut(a, ".")
	case []Value:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [LogicalID, Attribute], got %v", arg)
		}
		var err error
		if id, err = b.resolveString(a[0], depth); err != nil {
			return nil, fmt.Errorf("Fn::GetAtt: %w", err)
		}
		if attr, err = b.resolveString(a[1], depth); err != nil {
			return nil, fmt.Errorf("Fn::GetAtt %s: %w", id, err)
		}
	default:
		return nil, fmt.Errorf("Fn::GetAtt: want [LogicalID, Attribute], got %v", arg)
	}
	if id == "" || attr == "" {
		return nil, fmt.Errorf("Fn::GetAtt: want [LogicalID, Attribute], got %v", arg)
	}
	v, err := b.lookupAtt(id, attr)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: %w", id, attr, err)
	}
	return v, nil
}

func (b *Bindings) lookupAtt(id, attr string) (string, error) {
	b.mu.RLock()
	v, ok := b.atts[id][attr]
	b.mu.RUnlock()
	if ok {
		return v, nil
	}
	if r, ok := b.t.Resources[id]; ok {
		return "", fmt.Errorf("resource %s (%s) has no local value for %s", id, r.Type, attr)
	}
	return "", fmt.Errorf("the template declares no resource %s", id)
}

func (b *Bindings) sub(arg Value, depth int) (Value, error) {
	var tmpl Value
	vars := map[string]Value{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []Value:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub: want a string or [string, {variables}], got %v", arg)
		}
		tmpl = a[0]
		m, ok := a[1].(map[string]Value)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub: variables are not a mapping: %v", a[1])
		}
		vars = m
	default:
		return nil, fmt.Errorf("Fn::Sub: want a string or [string, {variables}], got %v", arg)
	}
	s, err := b.resolveString(tmpl, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Sub: %w", err)
	}

	var out strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			// An unterminated ${ is literal text, as CloudFormation leaves it.
			out.WriteString(s[i:])
			break
		}
		name := strings.TrimSpace(rest[:j])
		s = rest[j+1:]
		if literal, ok := strings.CutPrefix(name, "!"); ok {
			out.WriteString("${" + literal + "}")
			continue
		}
		value, err := b.subVariable(name, vars, depth)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		out.WriteString(value)
	}
	return out.String(), nil
}

// subVariable is the text for ${name}: a variable of the Fn::Sub itself, a Ref, or a GetAtt.
func (b *Bindings) subVariable(name string, vars map[string]Value, depth int) (string, error) {
	if v, ok := vars[name]; ok {
		return b.resolveString(v, depth)
	}
	if id, attr, ok := strings.Cut(name, "."); ok {
		return b.lookupAtt(id, attr)
	}
	v, err := b.lookupRef(name)
	if err != nil {
		return "", err
	}
	return scalarString(v)
}

func (b *Bindings) join(arg Value, depth int) (Value, error) {
	a, err := args("Fn::Join", arg, 2)
	if err != nil {
		return nil, err
	}
	delim, err := b.resolveString(a[0], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Join delimiter: %w", err)
	}
	list, err := b.resolveList(a[1], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Join values: %w", err)
	}
	parts := make([]string, len(list))
	for i, e := range list {
		if parts[i], err = scalarString(e); err != nil {
			return nil, fmt.Errorf("Fn::Join value %d: %w", i, err)
		}
	}
	return strings.Join(parts, delim), nil
}

func (b *Bindings) selectFn(arg Value, depth int) (Value, error) {
	a, err := args("Fn::Select", arg, 2)
	if err != nil {
		return nil, err
	}
	is, err := b.resolveString(a[0], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index: %w", err)
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index %q is not an integer", is)
	}
	list, err := b.resolveList(a[1], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select list: %w", err)
	}
	if i < 0 || i >= len(list) {
		return nil, fmt.Errorf("Fn::Select index %d is out of range for %d values", i, len(list))
	}
	return list[i], nil
}

func (b *Bindings) split(arg Value, depth int) (Value, error) {
	a, err := args("Fn::Split", arg, 2)
	if err != nil {
		return nil, err
	}
	delim, err := b.resolveString(a[0], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Split delimiter: %w", err)
	}
	if delim == "" {
		return nil, errors.New("Fn::Split: empty delimiter")
	}
	s, err := b.resolveString(a[1], depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Split source: %w", err)
	}
	parts := strings.Split(s, delim)
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func (b *Bindings) ifFn(arg Value, depth int) (Value, error) {
	a, err := args("Fn::If", arg, 3)
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::If: the first argument must be a condition name, got %v", a[0])
	}
	ok, err = b.condition(name, map[string]bool{}, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::If: %w", err)
	}
	// Only the chosen branch is resolved: the other may name a resource that does not exist.
	if ok {
		return b.resolve(a[1], depth)
	}
	return b.resolve(a[2], depth)
}

func (b *Bindings) findInMap(arg Value, depth int) (Value, error) {
	a, err := args("Fn::FindInMap", arg, 3)
	if err != nil {
		return nil, err
	}
	var keys [3]string
	for i := range keys {
		if keys[i], err = b.resolveString(a[i], depth); err != nil {
			return nil, fmt.Errorf("Fn::FindInMap argument %d: %w", i, err)
		}
	}
	m, ok := b.t.Mappings[keys[0]]
	if !ok {
		return nil, fmt.Errorf("Fn::FindInMap: no mapping %s", keys[0])
	}
	top, ok := m[keys[1]]
	if !ok {
		return nil, fmt.Errorf("Fn::FindInMap: mapping %s has no key %s", keys[0], keys[1])
	}
	v, ok := top[keys[2]]
	if !ok {
		return nil, fmt.Errorf("Fn::FindInMap: mapping %s.%s has no key %s", keys[0], keys[1], keys[2])
	}
	return b.resolve(v, depth)
}

// getAZs returns three zones named as AWS names them; nothing local depends on which.
func (b *Bindings) getAZs(arg Value, depth int) (Value, error) {
	region, err := b.resolveString(arg, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAZs: %w", err)
	}
	if region == "" {
		region = b.region
	}
	return []Value{region + "a", region + "b", region + "c"}, nil
}

func (b *Bindings) base64(arg Value, depth int) (Value, error) {
	s, err := b.resolveString(arg, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Base64: %w", err)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func (b *Bindings) toJSONString(arg Value, depth int) (Value, error) {
	r, err := b.resolve(arg, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // CloudFormation writes "<" and ">" as they are.
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func (b *Bindings) length(arg Value, depth int) (Value, error) {
	l, err := b.resolveList(arg, depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Length: %w", err)
	}
	return len(l), nil
}

// condition evaluates the named condition; visiting holds the names being evaluated, to
// report a cycle instead of recursing forever.
func (b *Bindings) condition(name string, visiting map[string]bool, depth int) (bool, error) {
	expr, ok := b.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("the template declares no condition %s", name)
	}
	if visiting[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	visiting[name] = true
	defer delete(visiting, name)
	ok, err := b.evalCondition(expr, visiting, depth)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return ok, nil
}

// evalCondition evaluates a condition function: Fn::Equals, Fn::Not, Fn::And, Fn::Or or a
// {"Condition": name} reference.
func (b *Bindings) evalCondition(expr Value, visiting map[string]bool, depth int) (bool, error) {
	if depth > maxDepth {
		return false, errors.New("conditions nest too deeply")
	}
	if v, ok := expr.(bool); ok {
		return v, nil
	}
	m, ok := expr.(map[string]Value)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%v is not a condition function", expr)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("Condition: want a condition name, got %v", arg)
			}
			return b.condition(name, visiting, depth+1)
		case "Fn::Equals":
			a, err := args(fn, arg, 2)
			if err != nil {
				return false, err
			}
			x, err := b.resolve(a[0], depth+1)
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
			y, err := b.resolve(a[1], depth+1)
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
			return equal(x, y), nil
		case "Fn::Not":
			a, err := args(fn, arg, 1)
			if err != nil {
				return false, err
			}
			ok, err := b.evalCondition(a[0], visiting, depth+1)
			return !ok, err
		case "Fn::And", "Fn::Or":
			a, ok := arg.([]Value)
			if !ok || len(a) < 2 || len(a) > 10 {
				return false, fmt.Errorf("%s: want 2 to 10 conditions, got %v", fn, arg)
			}
			for _, c := range a {
				ok, err := b.evalCondition(c, visiting, depth+1)
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" && !ok {
					return false, nil
				}
				if fn == "Fn::Or" && ok {
					return true, nil
				}
			}
			return fn == "Fn::And", nil
		default:
			return false, fmt.Errorf("%s is not a condition function", fn)
		}
	}
	return false, nil
}

// equal compares two resolved values as CloudFormation does: scalars by their string form
// (so 3 equals "3"), lists and maps element by element.
func equal(x, y Value) bool {
	xs, xerr := scalarString(x)
	ys, yerr := scalarString(y)
	if xerr == nil && yerr == nil {
		return xs == ys
	}
	return reflect.DeepEqual(x, y)
}

// scalarString renders a resolved scalar as a string.
func scalarString(v Value) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case noValue:
		return "", errors.New("resolves to AWS::NoValue where a value is required")
	default:
		if s, ok := formatNumber(v); ok {
			return s, nil
		}
		return "", fmt.Errorf("%v is not a string", v)
	}
}
