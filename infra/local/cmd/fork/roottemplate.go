package main

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/go-serverless/reference/infra/local/template"
)

// entry is one entry of a top-level section of a template (a parameter, a resource, an output,
// ...): its key node and its value.
type entry struct {
	section string
	key     *yaml.Node
	value   *yaml.Node
}

func (e entry) name() string { return e.key.Value }

// The sections whose entries a fork may drop: what refers to the other applications, and the
// parameters, conditions and mappings only they used.
const (
	parameters = "Parameters"
	conditions = "Conditions"
	mappings   = "Mappings"
	resources  = "Resources"
	outputs    = "Outputs"
)

// prunedRoot is the root template of a fork.
type prunedRoot struct {
	text       []byte
	app        string   // the logical ID of the one nested application left (JobsApp)
	parameters []string // the parameters it declares
}

// pruneRootTemplate returns the root template with one nested application, the one whose Location
// is services/<service>/template.yaml. The other AWS::Serverless::Application resources go, with
// every resource and output that refers to one of them, and then every parameter, condition and
// mapping that was in use and no longer is. The text is cut line by line, an entry with the
// comment lines right above it, so everything kept stays exactly as written, comments included.
func pruneRootTemplate(src []byte, service string) (prunedRoot, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return prunedRoot{}, fmt.Errorf("decode template: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return prunedRoot{}, fmt.Errorf("template is not a mapping")
	}
	top := doc.Content[0]
	entries := topLevelEntries(top)

	location := "services/" + service + "/template.yaml"
	removed := map[*yaml.Node]bool{} // key nodes of the entries to drop
	kept := ""
	for _, e := range entries {
		if e.section != resources || scalarAt(e.value, "Type") != "AWS::Serverless::Application" {
			continue
		}
		if path.Clean(scalarAt(e.value, "Properties", "Location")) == location {
			kept = e.name()
		} else {
			removed[e.key] = true
		}
	}
	if kept == "" {
		return prunedRoot{}, fmt.Errorf("no AWS::Serverless::Application has Location %s", location)
	}

	// Names in use before anything is dropped: a parameter, condition or mapping nobody used is
	// the template's own business, and stays.
	usedBefore := usedNames(entries, removed, true)
	for changed := true; changed; {
		changed = false
		gone := map[string]bool{}
		for _, e := range entries {
			if removed[e.key] && e.section == resources {
				gone[e.name()] = true
			}
		}
		used := usedNames(entries, removed, false)
		for _, e := range entries {
			if removed[e.key] {
				continue
			}
			var drop bool
			switch e.section {
			case resources, outputs:
				drop = slices.ContainsFunc(namesUsedBy(e.value), func(n string) bool { return gone[n] })
			case parameters, conditions, mappings:
				drop = usedBefore[e.name()] && !used[e.name()]
			}
			if drop {
				removed[e.key] = true
				changed = true
			}
		}
	}

	out := describeFork(cutEntries(src, top, removed), service)
	var declared []string
	for _, e := range entries {
		if e.section == parameters && !removed[e.key] {
			declared = append(declared, e.name())
		}
	}
	if err := checkPruned(out); err != nil {
		return prunedRoot{}, err
	}
	return prunedRoot{text: out, app: kept, parameters: declared}, nil
}

// topLevelEntries lists the entries of every top-level section that is a mapping, in order.
func topLevelEntries(top *yaml.Node) []entry {
	var out []entry
	for i := 0; i+1 < len(top.Content); i += 2 {
		section, body := top.Content[i], top.Content[i+1]
		if body.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			out = append(out, entry{section: section.Value, key: body.Content[j], value: body.Content[j+1]})
		}
	}
	return out
}

// scalarAt returns the scalar at the path of keys below n, "" if there is none.
func scalarAt(n *yaml.Node, keys ...string) string {
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return ""
		}
		n = next
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// usedNames returns every name the entries use (see namesUsedBy), leaving out the removed ones
// unless all is set.
func usedNames(entries []entry, removed map[*yaml.Node]bool, all bool) map[string]bool {
	used := map[string]bool{}
	for _, e := range entries {
		if all || !removed[e.key] {
			for _, n := range namesUsedBy(e.value) {
				used[n] = true
			}
		}
	}
	return used
}

// namesUsedBy returns the parameters, resources, conditions and mappings n refers to: through
// Ref, Fn::GetAtt, Fn::Sub (${Name} and ${Name.Attribute}), Fn::If and Condition (conditions),
// Fn::FindInMap (mappings) and DependsOn, in short or long form. Pseudo parameters (AWS::...)
// are left out.
func namesUsedBy(n *yaml.Node) []string {
	var names []string
	add := func(name string) {
		if name != "" && !strings.HasPrefix(name, "AWS::") {
			names = append(names, name)
		}
	}
	var walk func(n *yaml.Node)
	// call records the names the intrinsic function fn uses with the argument arg.
	call := func(fn string, arg *yaml.Node) {
		switch fn {
		case "Ref", "Condition":
			add(arg.Value)
		case "Fn::GetAtt":
			if arg.Kind == yaml.SequenceNode && len(arg.Content) > 0 {
				add(arg.Content[0].Value)
			} else {
				id, _, _ := strings.Cut(arg.Value, ".")
				add(id)
			}
		case "Fn::If", "Fn::FindInMap":
			if arg.Kind == yaml.SequenceNode && len(arg.Content) > 0 {
				add(arg.Content[0].Value)
			}
		case "Fn::Sub":
			body, vars := arg, (*yaml.Node)(nil)
			if arg.Kind == yaml.SequenceNode && len(arg.Content) > 0 {
				body = arg.Content[0]
				if len(arg.Content) > 1 {
					vars = arg.Content[1]
				}
			}
			for _, name := range subVariables(body.Value) {
				if vars == nil || !hasKey(vars, name) {
					id, _, _ := strings.Cut(name, ".")
					add(id)
				}
			}
		case "DependsOn":
			if arg.Kind == yaml.SequenceNode {
				for _, c := range arg.Content {
					add(c.Value)
				}
			} else {
				add(arg.Value)
			}
		}
	}
	walk = func(n *yaml.Node) {
		if fn, ok := shortForm(n.Tag); ok {
			call(fn, n)
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				call(n.Content[i].Value, n.Content[i+1])
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return names
}

// shortForm returns the long name of a short-form intrinsic tag (!Ref → Ref, !Sub → Fn::Sub).
func shortForm(tag string) (string, bool) {
	switch tag {
	case "!Ref", "!Condition":
		return strings.TrimPrefix(tag, "!"), true
	case "!GetAtt", "!If", "!FindInMap", "!Sub":
		return "Fn::" + strings.TrimPrefix(tag, "!"), true
	}
	return "", false
}

// hasKey reports whether the mapping n has the key k.
func hasKey(n *yaml.Node, k string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return true
		}
	}
	return false
}

// subVariables lists the ${...} names in a Fn::Sub string, leaving out ${!Literal} escapes.
func subVariables(s string) []string {
	var names []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return names
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			return names
		}
		if name := strings.TrimSpace(rest[:j]); !strings.HasPrefix(name, "!") {
			names = append(names, name)
		}
		s = rest[j+1:]
	}
}

// cutEntries deletes the lines of the removed entries from src: each entry's key, its body and
// the comment lines right above it, with the blank line that set it apart (the one before it, or
// after it when it comes first in its section). A section left with no entries goes too.
func cutEntries(src []byte, top *yaml.Node, removed map[*yaml.Node]bool) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	deleted := make([]bool, len(lines))

	// Sections whose entries all go are cut whole, from their key to their end.
	var cuts [][3]int // first and last line indexes (0-based), and the key's column
	for i := 0; i+1 < len(top.Content); i += 2 {
		section, body := top.Content[i], top.Content[i+1]
		if body.Kind != yaml.MappingNode || len(body.Content) == 0 {
			continue
		}
		all := true
		for j := 0; j < len(body.Content); j += 2 {
			all = all && removed[body.Content[j]]
		}
		if all {
			cuts = append(cuts, span(lines, section.Line-1, section.Column))
			continue
		}
		for j := 0; j < len(body.Content); j += 2 {
			if key := body.Content[j]; removed[key] {
				cuts = append(cuts, span(lines, key.Line-1, key.Column))
			}
		}
	}

	for _, c := range cuts {
		first, last, column := c[0], c[1], c[2]
		for k := first; k <= last; k++ {
			deleted[k] = true
		}
		// The blank lines that set the entry apart from what is above it, if any; else, when it
		// came right after its section's key or a comment, those below it, which would now
		// separate that key or comment from what it heads.
		blanks := blanksAround(lines, deleted, first, -1)
		if len(blanks) == 0 {
			if above := lineAbove(lines, deleted, first); above < 0 || isComment(lines[above]) || indent(lines[above]) < column {
				blanks = blanksAround(lines, deleted, last, +1)
			}
		}
		for _, k := range blanks {
			deleted[k] = true
		}
	}

	var b strings.Builder
	for k, line := range lines {
		if !deleted[k] {
			b.WriteString(line)
		}
	}
	return []byte(b.String())
}

// span returns the first and last line (0-based) of the entry whose key is on line at column
// (1-based): the comment lines right above the key, at its column or deeper, up to a banner (a
// "# ----" line: what it frames is about a group of entries, not this one); the key; and its
// body, every line up to the next one indented no deeper than the key (blank lines and the
// comments at the key's own column, which belong to what follows, are not counted at the end).
func span(lines []string, line, column int) [3]int {
	first := line
	for first > 0 && isComment(lines[first-1]) && indent(lines[first-1]) >= column && !isBanner(lines[first-1]) {
		first--
	}
	last := line
	for k := line + 1; k < len(lines); k++ {
		if isBlank(lines[k]) {
			continue
		}
		if indent(lines[k]) <= column {
			if isComment(lines[k]) {
				continue
			}
			break
		}
		last = k
	}
	return [3]int{first, last, column}
}

// lineAbove returns the index of the last line above line not deleted, -1 if none.
func lineAbove(lines []string, deleted []bool, line int) int {
	for k := line - 1; k >= 0; k-- {
		if !deleted[k] {
			return k
		}
	}
	return -1
}

// blanksAround returns the blank lines next to line in direction dir (-1 up, +1 down), skipping
// lines already deleted.
func blanksAround(lines []string, deleted []bool, line, dir int) []int {
	var out []int
	for k := line + dir; k >= 0 && k < len(lines); k += dir {
		if deleted[k] {
			continue
		}
		if !isBlank(lines[k]) {
			break
		}
		out = append(out, k)
	}
	return out
}

// banner matches a comment line that is a rule: "# -----".
var banner = regexp.MustCompile(`^\s*#\s*-{3,}\s*$`)

func isBanner(line string) bool { return banner.MatchString(line) }

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

func isComment(line string) bool { return strings.HasPrefix(strings.TrimSpace(line), "#") }

// indent returns the 1-based column of the first non-space character of line.
func indent(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) + 1 }

// checkPruned makes sure the pruned template still reads as a template and refers to nothing it
// no longer declares.
func checkPruned(src []byte) error {
	t, err := template.Parse(src, ".")
	if err != nil {
		return fmt.Errorf("pruned template: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("pruned template: %w", err)
	}
	declared := map[string]bool{}
	for _, e := range topLevelEntries(doc.Content[0]) {
		declared[e.name()] = true
	}
	for _, e := range topLevelEntries(doc.Content[0]) {
		for _, n := range namesUsedBy(e.value) {
			if !declared[n] {
				return fmt.Errorf("pruned template: %s %s refers to %s, which it no longer declares", e.section, e.name(), n)
			}
		}
	}
	if len(t.Resources) == 0 {
		return fmt.Errorf("pruned template declares no resources")
	}
	return nil
}

// describeFork rewrites what a fork's root template says of itself, which upstream names all the
// services: the first paragraph of its opening comment and its top-level Description (added
// after Transform when there is none). Everything else stays as written.
func describeFork(text []byte, service string) []byte {
	lines := strings.SplitAfter(string(text), "\n")
	var out []string
	i := 0
	if i < len(lines) && isComment(lines[i]) {
		for i < len(lines) && isComment(lines[i]) && strings.TrimSpace(lines[i]) != "#" {
			i++ // the first paragraph of the opening comment
		}
		out = append(out,
			"# The application as one stack per stage: the user pool whose tokens its API accepts, the alarm\n",
			"# topic, and the "+service+" service, a nested stack made from services/"+service+"/template.yaml.\n",
			"# Forked from "+upstreamURL+" (FORKING.md says what to rename).\n")
	}
	description := []string{
		"Description: >\n",
		"  The " + service + " service, forked from the Go serverless reference application: its user pool,\n",
		"  its alarm topic and the service as a nested application, one stack per stage. Deploy with\n",
		"  `make deploy STAGE=<name>`.\n",
	}
	written := false
	for ; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "Description:"):
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
				i++ // the folded value's lines
			}
			out, written = append(out, description...), true
		case strings.HasPrefix(line, "Transform:") && !strings.Contains(string(text), "\nDescription:"):
			out, written = append(append(out, line), description...), true
		default:
			out = append(out, line)
		}
	}
	if !written {
		out = append(out, description...)
	}
	return []byte(strings.Join(out, ""))
}
