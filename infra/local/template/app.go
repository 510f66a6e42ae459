package template

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// TypeApplication is the resource type of a SAM nested application.
const TypeApplication = "AWS::Serverless::Application"

// maxStackName is CloudFormation's limit on a stack's name, nested stacks' included.
const maxStackName = 128

// NestedStackName is the name CloudFormation gives the stack of nested application appID in the
// stack parent: <parent>-<appID>-<13 upper-case letters and digits>. AWS draws the suffix at
// random; here it is a hash of parent and appID, so a local stack keeps its names from run to run.
// A name that would pass CloudFormation's 128 characters is cut before the suffix, as AWS cuts it.
func NestedStackName(parent, appID string) string {
	sum := sha256.Sum256([]byte(parent + "/" + appID))
	suffix := base32.StdEncoding.EncodeToString(sum[:])[:13]
	prefix := parent + "-" + appID
	if room := maxStackName - 1 - len(suffix); len(prefix) > room {
		prefix = strings.TrimRight(prefix[:room], "-")
	}
	return prefix + "-" + suffix
}

// LoadApp reads the template at path and every AWS::Serverless::Application in it whose Location
// is a local file (relative to the template that declares it), recursively, and flattens them into
// one Template, as if the application were one stack:
//
//   - A nested template's parameters are replaced by the expression its parent passes, or by
//     their default; one with neither is an error, as on AWS. A nested stack's parameters are
//     strings, so a list passed as it is (!Ref of a list parameter) is an error too.
//   - AWS::StackName and AWS::StackId in a nested template are its nested stack's
//     (NestedStackName); they are written as a Ref to "<app path>.AWS::StackName", which
//     Bindings resolves.
//   - A nested template's Globals are merged into its own resources (Template.WithGlobals), so its
//     parent's never apply to them; CodeUri and Location are made relative to the root's directory.
//   - Its Conditions and Mappings are renamed "<app path>.<name>", with every use.
//   - Logical IDs are kept as they are, so they must be unique across the whole application: a
//     duplicate is an error naming both templates. So is a Ref, GetAtt or Sub naming a resource of
//     another template: on AWS a template sees only its own.
//   - Fn::GetAtt <App>.Outputs.<Key> becomes the nested template's output expression.
//
// Each Resource records the stack it belongs to (Resource.Stack), and Template.Apps each nested
// application with its outputs. A Location that is not a local file (an S3 URL, a Serverless
// Application Repository application) is left as it is: nothing of it runs locally.
func LoadApp(path string) (*Template, error) {
	root, err := loadTree(path, "", nil)
	if err != nil {
		return nil, err
	}
	owners, err := declarations(root)
	if err != nil {
		return nil, err
	}
	t := root.tmpl
	f := &flattener{
		rootDir: t.Dir,
		owners:  owners,
		out: &Template{
			Dir:        t.Dir,
			Parameters: t.Parameters,
			Resources:  map[string]Resource{},
			Conditions: map[string]Value{},
			Mappings:   map[string]map[string]map[string]Value{},
			Globals:    t.Globals,
			Apps:       map[string]App{},
		},
	}
	if f.out.Outputs, err = f.flatten(root, "", nil); err != nil {
		return nil, err
	}
	return f.out, nil
}

// node is one template file of an application, with the local nested applications it declares.
type node struct {
	// name is the file's path relative to the root template's directory, for messages.
	name string
	tmpl *Template
	apps map[string]*node
}

// loadTree reads the template at path and, recursively, those of its local nested applications.
// name is how messages call it ("" for the root: its base name); ancestors are the files above it,
// so that a template nesting itself is an error instead of a loop.
func loadTree(path, name string, ancestors []string) (*node, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("locate template %s: %w", path, err)
	}
	if slices.Contains(ancestors, abs) {
		return nil, fmt.Errorf("%s nests itself", name)
	}
	t, err := Load(abs)
	if err != nil {
		return nil, err
	}
	rootDir := t.Dir
	if name == "" {
		name = filepath.Base(abs)
	} else {
		rootDir = filepath.Dir(ancestors[0])
	}
	n := &node{name: name, tmpl: t, apps: map[string]*node{}}
	for _, r := range t.OfType(TypeApplication) {
		loc, local := localLocation(r)
		if !local {
			continue
		}
		if r.Condition != "" {
			return nil, fmt.Errorf("%s: nested application %s has a Condition: not supported by the local runner", name, r.LogicalID)
		}
		childPath := filepath.Join(t.Dir, filepath.FromSlash(loc))
		childName, err := filepath.Rel(rootDir, childPath)
		if err != nil {
			childName = childPath
		}
		child, err := loadTree(childPath, filepath.ToSlash(childName), append(slices.Clip(ancestors), abs))
		if err != nil {
			return nil, fmt.Errorf("nested application %s of %s: %w", r.LogicalID, name, err)
		}
		n.apps[r.LogicalID] = child
	}
	return n, nil
}

// localLocation returns an application's Location when it names a local file.
func localLocation(r Resource) (string, bool) {
	loc, ok := r.Properties["Location"].(string)
	if !ok || loc == "" || strings.Contains(loc, "://") || filepath.IsAbs(loc) {
		return "", false
	}
	return loc, true
}

// declarations maps every logical ID of the application to the file that declares it, refusing
// one declared twice. SAM's implicit APIs count: two templates with HttpApi events that name no
// ApiId would both make a ServerlessHttpApi. A root parameter may not share a resource's name
// either: in one namespace, Ref could not tell them apart.
func declarations(root *node) (map[string]string, error) {
	owners := map[string]string{}
	var walk func(n *node) error
	walk = func(n *node) error {
		ids := make([]string, 0, len(n.tmpl.Resources))
		for id := range n.tmpl.Resources {
			ids = append(ids, id)
		}
		ids = append(ids, implicitAPIs(n.tmpl)...)
		sort.Strings(ids)
		for _, id := range slices.Compact(ids) {
			if other, ok := owners[id]; ok {
				return fmt.Errorf("logical ID %s is declared by both %s and %s: the local runner runs nested applications as one stack, so logical IDs must be unique across the application", id, other, n.name)
			}
			if _, ok := root.tmpl.Parameters[id]; ok {
				return fmt.Errorf("logical ID %s of %s is also a parameter of %s: the local runner runs nested applications as one stack, so Ref %s would be ambiguous", id, n.name, root.name, id)
			}
			owners[id] = n.name
		}
		for _, id := range sortedKeys(n.apps) {
			if err := walk(n.apps[id]); err != nil {
				return err
			}
		}
		return nil
	}
	return owners, walk(root)
}

// implicitAPIs are the logical IDs of the APIs SAM adds to a template for events that name none.
func implicitAPIs(t *Template) []string {
	var out []string
	for _, r := range t.OfType(TypeFunction) {
		events, _ := r.Properties["Events"].(map[string]Value)
		for _, e := range events {
			em, _ := e.(map[string]Value)
			props, _ := em["Properties"].(map[string]Value)
			if _, named := props["RestApiId"]; em["Type"] == "Api" && !named {
				out = append(out, "ServerlessRestApi")
			}
			if _, named := props["ApiId"]; em["Type"] == "HttpApi" && !named {
				out = append(out, "ServerlessHttpApi")
			}
		}
	}
	return out
}

// flattener accumulates LoadApp's result.
type flattener struct {
	rootDir string
	// owners maps every logical ID to the file that declares it (see declarations).
	owners map[string]string
	out    *Template
}

// flatten adds n's template to the result as the stack stack ("" for the root), its parameters
// bound to params, and returns its Outputs rewritten. Nested applications go first, so that the
// template's GetAtt <App>.Outputs.<Key> find their outputs; among themselves, an application whose
// Parameters use another's outputs goes after it.
func (f *flattener) flatten(n *node, stack string, params map[string]Value) (map[string]Value, error) {
	t := n.tmpl
	s := &scope{node: n, stack: stack, params: params, owners: f.owners, apps: map[string]App{}}
	rel, err := filepath.Rel(f.rootDir, t.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.name, err)
	}
	rel = filepath.ToSlash(rel)

	order, err := appOrder(n)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, id := range order {
		done[id] = true
		r, err := s.resource(t.Resources[id])
		if err != nil {
			return nil, err
		}
		child := n.apps[id]
		path := id
		if stack != "" {
			path = stack + "." + id
		}
		childParams, err := s.childParameters(r, child)
		if err != nil {
			return nil, err
		}
		outputs, err := f.flatten(child, path, childParams)
		if err != nil {
			return nil, err
		}
		loc, _ := localLocation(r)
		r.Properties["Location"] = joinPath(rel, loc)
		app := App{Path: path, Location: joinPath(rel, loc), Outputs: outputs}
		s.apps[id] = app
		f.out.Apps[path] = app
		f.out.Resources[id] = r
	}

	for _, id := range sortedKeys(t.Resources) {
		if done[id] {
			continue
		}
		r := t.Resources[id]
		if stack != "" {
			// A nested template's own Globals, never its parent's.
			r.Properties = withGlobals(t.Globals, r)
			if r.Type == TypeFunction {
				if err := rebaseCodeURI(r, rel); err != nil {
					return nil, fmt.Errorf("%s: %w", n.name, err)
				}
			}
		}
		if r, err = s.resource(r); err != nil {
			return nil, err
		}
		f.out.Resources[id] = r
	}

	for _, name := range sortedKeys(t.Conditions) {
		v, err := s.rewrite(t.Conditions[name])
		if err != nil {
			return nil, fmt.Errorf("%s: condition %s: %w", n.name, name, err)
		}
		f.out.Conditions[s.prefix()+name] = v
	}
	for name, m := range t.Mappings {
		f.out.Mappings[s.prefix()+name] = m
	}
	outputs := map[string]Value{}
	for _, name := range sortedKeys(t.Outputs) {
		v, err := s.output(t.Outputs[name])
		if err != nil {
			return nil, fmt.Errorf("%s: output %s: %w", n.name, name, err)
		}
		outputs[name] = v
	}
	return outputs, nil
}

// appOrder returns the logical IDs of n's local nested applications, each after those whose
// outputs its properties use.
func appOrder(n *node) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("%s: nested application %s depends on its own outputs through its parameters", n.name, id)
		case 2:
			return nil
		}
		state[id] = 1
		for _, dep := range References(n.tmpl.Resources[id].Properties) {
			if _, ok := n.apps[dep]; ok && dep != id {
				if err := visit(dep); err != nil {
					return err
				}
			} else if dep == id {
				return fmt.Errorf("%s: nested application %s refers to itself", n.name, id)
			}
		}
		state[id] = 2
		order = append(order, id)
		return nil
	}
	for _, id := range sortedKeys(n.apps) {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// rebaseCodeURI makes a nested function's CodeUri relative to the root template's directory.
func rebaseCodeURI(r Resource, rel string) error {
	switch code := r.Properties["CodeUri"].(type) {
	case nil:
	case string:
		if !strings.Contains(code, "://") && !filepath.IsAbs(code) {
			r.Properties["CodeUri"] = joinPath(rel, code)
		}
	case map[string]Value:
		if isIntrinsic(code) {
			return fmt.Errorf("function %s: CodeUri of a function in a nested template must be a path as written", r.LogicalID)
		}
	}
	return nil
}

// joinPath joins slash-separated relative paths, cleaned.
func joinPath(dir, path string) string {
	return filepath.ToSlash(filepath.Join(filepath.FromSlash(dir), filepath.FromSlash(path)))
}

// sortedKeys returns m's keys in order, so that what LoadApp does, and the first error it reports,
// never depends on map order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scope is one template's namespace while LoadApp flattens it into the root's: every intrinsic
// rewriting LoadApp does is one of its methods.
type scope struct {
	node *node
	// stack is the template's application path, "" for the root.
	stack string
	// params are a nested template's parameters, each bound to its value in the flattened template.
	params map[string]Value
	// apps are the template's nested applications flattened so far, by logical ID.
	apps map[string]App
	// owners maps every logical ID to the file that declares it.
	owners map[string]string
}

// prefix is what the template's condition and mapping names gain: "JobsApp.", "" for the root.
func (s *scope) prefix() string {
	if s.stack == "" {
		return ""
	}
	return s.stack + "."
}

// resource returns r with its properties and metadata rewritten, its condition renamed and its stack set.
func (s *scope) resource(r Resource) (Resource, error) {
	props, err := s.rewrite(r.Properties)
	if err != nil {
		return Resource{}, fmt.Errorf("%s: resource %s: %w", s.node.name, r.LogicalID, err)
	}
	meta, err := s.rewrite(r.Metadata)
	if err != nil {
		return Resource{}, fmt.Errorf("%s: resource %s Metadata: %w", s.node.name, r.LogicalID, err)
	}
	r.Properties, _ = props.(map[string]Value)
	r.Metadata, _ = meta.(map[string]Value)
	if r.Condition != "" {
		r.Condition = s.prefix() + r.Condition
	}
	r.Stack = s.stack
	return r, nil
}

// output rewrites one entry of the Outputs section.
func (s *scope) output(v Value) (Value, error) {
	rewritten, err := s.rewrite(v)
	if err != nil {
		return nil, err
	}
	if m, ok := rewritten.(map[string]Value); ok {
		if c, ok := m["Condition"].(string); ok {
			m["Condition"] = s.prefix() + c
		}
	}
	return rewritten, nil
}

// childParameters binds the parameters of child, the template of application r (its properties
// rewritten already), to what r passes, or to their defaults.
func (s *scope) childParameters(r Resource, child *node) (map[string]Value, error) {
	where := fmt.Sprintf("%s: nested application %s", s.node.name, r.LogicalID)
	passed := map[string]Value{}
	if p, ok := r.Properties["Parameters"]; ok && p != nil {
		m, ok := p.(map[string]Value)
		if !ok || isIntrinsic(p) {
			return nil, fmt.Errorf("%s: Parameters is not a mapping", where)
		}
		passed = m
	}
	as := s.node.tmpl.Resources[r.LogicalID].Properties["Parameters"]
	written, _ := as.(map[string]Value)
	for _, name := range sortedKeys(passed) {
		if _, ok := child.tmpl.Parameters[name]; !ok {
			return nil, fmt.Errorf("%s passes parameter %s, which %s does not declare", where, name, child.name)
		}
		if s.isList(written[name]) {
			return nil, fmt.Errorf("%s: parameter %s is a list, and a nested stack's parameters are strings (pass !Join [\",\", ...])", where, name)
		}
	}
	params := map[string]Value{}
	for _, name := range sortedKeys(child.tmpl.Parameters) {
		p := child.tmpl.Parameters[name]
		v, ok := passed[name]
		if !ok {
			if p.Default == nil {
				return nil, fmt.Errorf("%s passes no parameter %s, which %s requires (it has no default)", where, name, child.name)
			}
			v = p.Default
		}
		if !isIntrinsic(v) {
			// A literal reaches the nested template as the string CloudFormation makes of it.
			if str, ok := parameterString(v); ok {
				v = str
			}
		}
		if isListType(p.Type) {
			if str, ok := v.(string); ok {
				v = splitList(str)
			} else {
				v = map[string]Value{"Fn::Split": []Value{",", v}}
			}
		}
		params[name] = v
	}
	return params, nil
}

// isList reports whether v, as written in the scope's template, is a list: a literal one, or a Ref
// to a list parameter.
func (s *scope) isList(v Value) bool {
	if _, ok := v.([]Value); ok {
		return true
	}
	m, ok := v.(map[string]Value)
	if !ok || len(m) != 1 {
		return false
	}
	name, ok := m["Ref"].(string)
	if !ok {
		return false
	}
	p, ok := s.node.tmpl.Parameters[name]
	return ok && isListType(p.Type)
}

// isListType reports whether a parameter type is a list: Ref of it is a list, its value "a,b".
func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
}

// splitList is Ref of a list parameter whose value is s, as CloudFormation splits it.
func splitList(s string) []Value {
	parts := strings.Split(s, ",")
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = strings.TrimSpace(p)
	}
	return out
}

// rewrite returns v, written in the scope's template, as it reads in the flattened one.
func (s *scope) rewrite(v Value) (Value, error) {
	switch x := v.(type) {
	case []Value:
		out := make([]Value, len(x))
		for i, e := range x {
			r, err := s.rewrite(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]Value:
		if len(x) == 1 {
			for fn, arg := range x {
				switch fn {
				case "Ref":
					return s.ref(arg)
				case "Fn::GetAtt":
					return s.getAtt(arg)
				case "Fn::Sub":
					return s.sub(arg)
				case "Fn::If":
					return s.ifFn(arg)
				case "Fn::FindInMap":
					return s.findInMap(arg)
				case "Condition":
					if name, ok := arg.(string); ok {
						if _, declared := s.node.tmpl.Conditions[name]; declared {
							return map[string]Value{fn: s.prefix() + name}, nil
						}
					}
				}
			}
		}
		out := make(map[string]Value, len(x))
		for k, e := range x {
			r, err := s.rewrite(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

func (s *scope) ref(arg Value) (Value, error) {
	name, ok := arg.(string)
	if !ok {
		a, err := s.rewrite(arg)
		return map[string]Value{"Ref": a}, err
	}
	if v, ok := s.pseudo(name); ok {
		return v, nil
	}
	if v, ok := s.params[name]; ok {
		return deepCopy(v), nil
	}
	if err := s.own("Ref "+name, name); err != nil {
		return nil, err
	}
	return map[string]Value{"Ref": name}, nil
}

// pseudo returns what a nested template's AWS::StackName or AWS::StackId becomes.
func (s *scope) pseudo(name string) (Value, bool) {
	if s.stack == "" || (name != "AWS::StackName" && name != "AWS::StackId") {
		return nil, false
	}
	return map[string]Value{"Ref": s.stack + "." + name}, true
}

// own refuses a reference to a resource another template declares.
func (s *scope) own(what, id string) error {
	if owner, ok := s.owners[id]; ok && owner != s.node.name {
		return fmt.Errorf("%s: %s is declared by %s, and a template refers only to its own resources (pass the value as a parameter, or an output)", what, id, owner)
	}
	return nil
}

func (s *scope) getAtt(arg Value) (Value, error) {
	var id, attr string
	switch a := arg.(type) {
	case string:
		id, attr, _ = strings.Cut(a, ".")
	case []Value:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	}
	if v, ok, err := s.appOutput(id, attr); ok || err != nil {
		return v, err
	}
	if id != "" {
		if err := s.own("Fn::GetAtt "+id, id); err != nil {
			return nil, err
		}
	}
	a, err := s.rewrite(arg)
	return map[string]Value{"Fn::GetAtt": a}, err
}

// appOutput returns the expression of output Outputs.<Key> of the scope's nested application id;
// false when id is no such application or attr no output.
func (s *scope) appOutput(id, attr string) (Value, bool, error) {
	app, ok := s.apps[id]
	key, isOutput := strings.CutPrefix(attr, "Outputs.")
	if !ok || !isOutput {
		return nil, false, nil
	}
	out, ok := app.Outputs[key].(map[string]Value)
	if !ok {
		return nil, false, fmt.Errorf("Fn::GetAtt %s.%s: the template of %s declares no output %s", id, attr, id, key)
	}
	return deepCopy(out["Value"]), true, nil
}

// sub rewrites Fn::Sub. A ${Name} that changes meaning in the flattened template (a nested
// template's parameter, AWS::StackName or AWS::StackId, an <App>.Outputs.<Key>) becomes a variable
// of the Fn::Sub bound to its new expression, so the text stays as written.
func (s *scope) sub(arg Value) (Value, error) {
	var text Value
	vars := map[string]Value{}
	switch a := arg.(type) {
	case string:
		text = a
	case []Value:
		if len(a) != 2 {
			return map[string]Value{"Fn::Sub": arg}, nil // resolution reports it
		}
		text = a[0]
		m, ok := a[1].(map[string]Value)
		if !ok {
			return map[string]Value{"Fn::Sub": arg}, nil
		}
		for k, v := range m {
			r, err := s.rewrite(v)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = r
		}
	default:
		return map[string]Value{"Fn::Sub": arg}, nil
	}
	str, literal := text.(string)
	if !literal {
		r, err := s.rewrite(text)
		if err != nil {
			return nil, err
		}
		return map[string]Value{"Fn::Sub": []Value{r, vars}}, nil
	}
	for _, name := range subVariables(str) {
		if _, isVar := vars[name]; isVar {
			continue
		}
		if v, ok := s.pseudo(name); ok {
			vars[name] = v
			continue
		}
		if v, ok := s.params[name]; ok {
			vars[name] = deepCopy(v)
			continue
		}
		id, attr, _ := strings.Cut(name, ".")
		v, ok, err := s.appOutput(id, attr)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		if ok {
			vars[name] = v
			continue
		}
		if err := s.own("Fn::Sub ${"+name+"}", id); err != nil {
			return nil, err
		}
	}
	if _, isList := arg.([]Value); !isList && len(vars) == 0 {
		return map[string]Value{"Fn::Sub": str}, nil
	}
	return map[string]Value{"Fn::Sub": []Value{str, vars}}, nil
}

func (s *scope) ifFn(arg Value) (Value, error) {
	a, ok := arg.([]Value)
	if !ok || len(a) != 3 {
		return map[string]Value{"Fn::If": arg}, nil // resolution reports it
	}
	out := make([]Value, 3)
	out[0] = a[0]
	if name, ok := a[0].(string); ok {
		out[0] = s.prefix() + name
	}
	for i := 1; i < 3; i++ {
		r, err := s.rewrite(a[i])
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return map[string]Value{"Fn::If": out}, nil
}

func (s *scope) findInMap(arg Value) (Value, error) {
	a, ok := arg.([]Value)
	if !ok || len(a) == 0 {
		return map[string]Value{"Fn::FindInMap": arg}, nil // resolution reports it
	}
	out, err := s.rewrite(a)
	if err != nil {
		return nil, err
	}
	l := out.([]Value)
	if s.stack != "" {
		if name, ok := l[0].(string); ok {
			l[0] = s.prefix() + name
		} else {
			l[0] = map[string]Value{"Fn::Join": []Value{"", []Value{s.prefix(), l[0]}}}
		}
	}
	return map[string]Value{"Fn::FindInMap": l}, nil
}
