package template

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// longForm returns the key of a short-form tag's long form: !Ref → Ref, !Sub → Fn::Sub.
// !GetAtt is handled apart: its scalar form "A.B" also changes shape, see convertTagged.
func longForm(tag string) (string, bool) {
	switch tag {
	case "!Ref":
		return "Ref", true
	case "!Condition":
		return "Condition", true
	case "!Sub", "!Join", "!Select", "!Split", "!If", "!Equals", "!Not", "!And", "!Or",
		"!FindInMap", "!GetAZs", "!ImportValue", "!Base64", "!Cidr", "!Transform":
		return "Fn::" + strings.TrimPrefix(tag, "!"), true
	default:
		return "", false
	}
}

// Load reads the template at path. Template.Dir is the absolute directory that holds it.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("locate template directory: %w", err)
	}
	t, err := Parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

// Parse reads a template from YAML (or JSON, which is YAML) held in memory.
// dir becomes Template.Dir, the directory CodeUri paths are relative to.
func Parse(data []byte, dir string) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("template is empty")
	}
	v, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]Value)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	return fromMap(root, dir)
}

// fromMap builds the model from the converted top-level mapping.
func fromMap(root map[string]Value, dir string) (*Template, error) {
	t := &Template{
		Dir:        dir,
		Parameters: map[string]Parameter{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]Value{},
		Conditions: map[string]Value{},
		Mappings:   map[string]map[string]map[string]Value{},
		Globals:    map[string]map[string]Value{},
	}

	params, err := section(root, "Parameters")
	if err != nil {
		return nil, err
	}
	for name, v := range params {
		m, ok := v.(map[string]Value)
		if !ok {
			return nil, fmt.Errorf("parameter %s is not a mapping", name)
		}
		typ, _ := m["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("parameter %s has no Type", name)
		}
		t.Parameters[name] = Parameter{Type: typ, Default: m["Default"]}
	}

	resources, err := section(root, "Resources")
	if err != nil {
		return nil, err
	}
	if len(resources) == 0 {
		return nil, errors.New("template declares no Resources")
	}
	for id, v := range resources {
		r, err := resourceOf(id, v)
		if err != nil {
			return nil, err
		}
		t.Resources[id] = r
	}

	if t.Outputs, err = section(root, "Outputs"); err != nil {
		return nil, err
	}
	if t.Conditions, err = section(root, "Conditions"); err != nil {
		return nil, err
	}

	mappings, err := section(root, "Mappings")
	if err != nil {
		return nil, err
	}
	for name, v := range mappings {
		top, ok := v.(map[string]Value)
		if !ok {
			return nil, fmt.Errorf("mapping %s is not a mapping", name)
		}
		t.Mappings[name] = map[string]map[string]Value{}
		for key, v := range top {
			second, ok := v.(map[string]Value)
			if !ok {
				return nil, fmt.Errorf("mapping %s key %s is not a mapping", name, key)
			}
			t.Mappings[name][key] = second
		}
	}

	globals, err := section(root, "Globals")
	if err != nil {
		return nil, err
	}
	for kind, v := range globals {
		m, ok := v.(map[string]Value)
		if !ok {
			return nil, fmt.Errorf("globals %s is not a mapping", kind)
		}
		t.Globals[kind] = m
	}
	return t, nil
}

// section returns the top-level mapping under key, empty when the template leaves it out.
func section(root map[string]Value, key string) (map[string]Value, error) {
	v, ok := root[key]
	if !ok || v == nil {
		return map[string]Value{}, nil
	}
	m, ok := v.(map[string]Value)
	if !ok {
		return nil, fmt.Errorf("section %s is not a mapping", key)
	}
	return m, nil
}

// resourceOf reads one entry of the Resources section.
func resourceOf(id string, v Value) (Resource, error) {
	m, ok := v.(map[string]Value)
	if !ok {
		return Resource{}, fmt.Errorf("resource %s is not a mapping", id)
	}
	r := Resource{LogicalID: id, Properties: map[string]Value{}, Metadata: map[string]Value{}}
	if r.Type, _ = m["Type"].(string); r.Type == "" {
		return Resource{}, fmt.Errorf("resource %s has no Type", id)
	}
	if p, ok := m["Properties"]; ok && p != nil {
		if r.Properties, ok = p.(map[string]Value); !ok {
			return Resource{}, fmt.Errorf("resource %s: Properties is not a mapping", id)
		}
	}
	if p, ok := m["Metadata"]; ok && p != nil {
		if r.Metadata, ok = p.(map[string]Value); !ok {
			return Resource{}, fmt.Errorf("resource %s: Metadata is not a mapping", id)
		}
	}
	if c, ok := m["Condition"]; ok {
		if r.Condition, ok = c.(string); !ok {
			return Resource{}, fmt.Errorf("resource %s: Condition is not a condition name", id)
		}
	}
	switch d := m["DependsOn"].(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []Value:
		for _, e := range d {
			s, ok := e.(string)
			if !ok {
				return Resource{}, fmt.Errorf("resource %s: DependsOn holds a non-string", id)
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return Resource{}, fmt.Errorf("resource %s: DependsOn is neither a name nor a list", id)
	}
	return r, nil
}

// convert turns a YAML node into plain values: map[string]Value, []Value, string, int, float64,
// bool or nil, with short-form intrinsic tags rewritten to their long form.
func convert(n *yaml.Node) (Value, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return convertTagged(n)
	}
	return convertPlain(n)
}

// convertPlain converts a node that carries no intrinsic tag (or whose tag was already handled).
func convertPlain(n *yaml.Node) (Value, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]Value, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if k.Value == "<<" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported by CloudFormation", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			cv, err := convert(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]Value, 0, len(n.Content))
		for _, e := range n.Content {
			cv, err := convert(e)
			if err != nil {
				return nil, err
			}
			l = append(l, cv)
		}
		return l, nil
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.AliasNode:
		return convert(n.Alias)
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
}

// scalar converts a scalar by its resolved YAML tag. Integral numbers become int.
func scalar(n *yaml.Node) (Value, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), nil
		}
		return f, nil
	default:
		// Strings, and timestamps such as an unquoted AWSTemplateFormatVersion, stay as written.
		return n.Value, nil
	}
}

// convertTagged rewrites a short-form intrinsic to its long form.
func convertTagged(n *yaml.Node) (Value, error) {
	if n.Tag == "!GetAtt" {
		if n.Kind == yaml.ScalarNode {
			// CloudFormation splits at the first dot only: !GetAtt DB.Endpoint.Address.
			id, attr, ok := strings.Cut(n.Value, ".")
			if !ok || id == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not LogicalID.Attribute", n.Line, n.Value)
			}
			return map[string]Value{"Fn::GetAtt": []Value{id, attr}}, nil
		}
		v, err := convertPlain(n)
		if err != nil {
			return nil, err
		}
		return map[string]Value{"Fn::GetAtt": v}, nil
	}
	key, ok := longForm(n.Tag)
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	var v Value
	if n.Kind == yaml.ScalarNode {
		// The argument of a tagged scalar is its text: !Ref 5 refers to "5", not the number.
		v = n.Value
	} else {
		var err error
		if v, err = convertPlain(n); err != nil {
			return nil, err
		}
	}
	return map[string]Value{key: v}, nil
}

// formatNumber renders a number the way CloudFormation turns it into a string.
func formatNumber(v Value) (string, bool) {
	switch n := v.(type) {
	case int:
		return strconv.Itoa(n), true
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64), true
	default:
		return "", false
	}
}
