package workflows

import (
	"fmt"
	"os"
	"slices"

	"gopkg.in/yaml.v3"
)

// workflow is the part of a GitHub Actions workflow file the rules read.
type workflow struct {
	path        string
	events      []string          // the triggers under on:, in file order
	permissions *permissions      // top-level permissions; nil when not set
	env         map[string]string // top-level env
	jobs        []job             // in file order
}

// job is one entry of a workflow's jobs.
type job struct {
	id          string
	permissions *permissions // nil when the job sets none (it then has the top-level ones)
	env         map[string]string
	uses        string // a reusable workflow the job calls instead of running steps
	steps       []step
}

// step is one entry of a job's steps: an action (uses) or a script (run).
type step struct {
	uses string
	run  string
	env  map[string]string
}

// permissions is a permissions: value: either a whole-token level (read-all, write-all) or a
// level per scope (contents: read, id-token: write); {} is an empty map.
type permissions struct {
	all    string            // "read-all" or "write-all"; empty when scopes are listed
	scopes map[string]string // scope → read, write or none
}

// writes reports whether p grants write access to scope.
func (p *permissions) writes(scope string) bool {
	return p != nil && (p.all == "write-all" || p.scopes[scope] == "write")
}

// writtenScopes returns the scopes p grants write access to, sorted; "write-all" for a whole-token
// write.
func (p *permissions) writtenScopes() []string {
	if p == nil {
		return nil
	}
	if p.all == "write-all" {
		return []string{"write-all"}
	}
	var out []string
	for scope, level := range p.scopes {
		if level == "write" {
			out = append(out, scope)
		}
	}
	slices.Sort(out)
	return out
}

// rawWorkflow is a workflow as YAML gives it. on: and permissions: take several shapes, and jobs
// keep their order, so those stay nodes until parse reads them.
type rawWorkflow struct {
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        yaml.Node         `yaml:"jobs"`
}

type rawJob struct {
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Uses        string            `yaml:"uses"`
	Steps       []rawStep         `yaml:"steps"`
}

type rawStep struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

// loadWorkflow reads and parses the workflow file at path.
func loadWorkflow(path string) (*workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := parseWorkflow(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	w.path = path
	return w, nil
}

// parseWorkflow parses a workflow file's contents.
func parseWorkflow(data []byte) (*workflow, error) {
	var raw rawWorkflow
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	w := &workflow{env: raw.Env}

	// on: push | on: [push, pull_request] | on: {push: {...}, pull_request: {...}}
	switch raw.On.Kind {
	case yaml.ScalarNode:
		w.events = []string{raw.On.Value}
	case yaml.SequenceNode:
		for _, e := range raw.On.Content {
			w.events = append(w.events, e.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(raw.On.Content); i += 2 {
			w.events = append(w.events, raw.On.Content[i].Value)
		}
	case 0:
		return nil, fmt.Errorf("no on: triggers")
	}

	perms, err := parsePermissions(&raw.Permissions)
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	w.permissions = perms

	if raw.Jobs.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("jobs: is not a map of jobs")
	}
	for i := 0; i < len(raw.Jobs.Content); i += 2 {
		id := raw.Jobs.Content[i].Value
		var rj rawJob
		if err := raw.Jobs.Content[i+1].Decode(&rj); err != nil {
			return nil, fmt.Errorf("jobs.%s: %w", id, err)
		}
		perms, err := parsePermissions(&rj.Permissions)
		if err != nil {
			return nil, fmt.Errorf("jobs.%s.permissions: %w", id, err)
		}
		j := job{id: id, permissions: perms, env: rj.Env, uses: rj.Uses}
		for _, rs := range rj.Steps {
			j.steps = append(j.steps, step{uses: rs.Uses, run: rs.Run, env: rs.Env})
		}
		w.jobs = append(w.jobs, j)
	}
	return w, nil
}

// parsePermissions reads a permissions: node; nil for an absent or empty (null) one.
func parsePermissions(n *yaml.Node) (*permissions, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		if n.Value != "read-all" && n.Value != "write-all" {
			return nil, fmt.Errorf("%q is neither read-all nor write-all", n.Value)
		}
		return &permissions{all: n.Value}, nil
	case yaml.MappingNode:
		p := &permissions{scopes: map[string]string{}}
		if err := n.Decode(&p.scopes); err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, fmt.Errorf("neither a level nor a map of scopes")
}
