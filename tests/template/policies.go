package template

import (
	"fmt"
	"path"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// policyKind says which of SAM's forms an entry of a function's Policies takes.
type policyKind int

const (
	// managedPolicy is a managed policy by name or ARN ("AmazonDynamoDBFullAccess",
	// "arn:aws:iam::aws:policy/...") or given by an intrinsic.
	managedPolicy policyKind = iota
	// policyDocument is an inline IAM policy document: {Statement: [...]}.
	policyDocument
	// policyTemplate is a SAM policy template: {SQSSendMessagePolicy: {QueueName: ...}}.
	policyTemplate
	// malformedPolicy is anything else.
	malformedPolicy
)

// policy is one entry of a function's Policies.
type policy struct {
	// where locates the entry for messages: Policies[1].
	where string
	kind  policyKind
	// value is the managed policy's name or ARN, the policy document, or the template's arguments.
	value template.Value
	// template is a policy template's name (SQSSendMessagePolicy), "" for the other kinds.
	template string
}

// statement is one statement of an inline policy document.
type statement struct {
	// where locates the statement for messages: Policies[0].Statement[2].
	where string
	// fields are the statement as written (Effect, Action, Resource, NotAction, ...).
	fields map[string]template.Value
}

// actions returns the statement's Action, one element per action.
func (s statement) actions() []template.Value { return asList(s.fields["Action"]) }

// resources returns the statement's Resource, one element per resource.
func (s statement) resources() []template.Value { return asList(s.fields["Resource"]) }

// policiesOf splits a function's Policies property into its entries. SAM accepts a single entry
// (a managed policy name, a policy document, a policy template) or a list of them.
func policiesOf(v template.Value) []policy {
	if v == nil {
		return nil
	}
	if l, ok := v.([]template.Value); ok {
		out := make([]policy, 0, len(l))
		for i, e := range l {
			out = append(out, policyOf(fmt.Sprintf("Policies[%d]", i), e))
		}
		return out
	}
	return []policy{policyOf("Policies", v)}
}

// policyOf classifies one entry of Policies.
func policyOf(where string, v template.Value) policy {
	p := policy{where: where, kind: malformedPolicy, value: v}
	if _, _, ok := intrinsic(v); ok {
		p.kind = managedPolicy
		return p
	}
	switch x := v.(type) {
	case string:
		p.kind = managedPolicy
	case map[string]template.Value:
		if _, ok := x["Statement"]; ok {
			p.kind = policyDocument
			return p
		}
		if len(x) == 1 {
			for name, args := range x {
				p.kind, p.template, p.value = policyTemplate, name, args
			}
		}
	}
	return p
}

// statementsOf returns the statements of every inline policy document among ps.
func statementsOf(ps []policy) []statement {
	var out []statement
	for _, p := range ps {
		if p.kind != policyDocument {
			continue
		}
		doc, _ := p.value.(map[string]template.Value)
		raw := doc["Statement"]
		if m, ok := raw.(map[string]template.Value); ok {
			out = append(out, statement{where: p.where + ".Statement", fields: m})
			continue
		}
		for i, e := range asList(raw) {
			m, _ := e.(map[string]template.Value)
			out = append(out, statement{where: fmt.Sprintf("%s.Statement[%d]", p.where, i), fields: m})
		}
	}
	return out
}

// actionMatches reports whether an IAM action pattern (with * and ? wildcards, compared without
// regard to case, as IAM does) covers action.
func actionMatches(pattern, action string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return err == nil && ok
}
