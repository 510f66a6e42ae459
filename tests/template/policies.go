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
		if p.kind == policyDocument {
			out = append(out, statementsIn(p.where, p.value)...)
		}
	}
	return out
}

// statementsIn returns the statements of the policy document doc, located at where: IAM takes
// one statement or a list of them.
func statementsIn(where string, doc template.Value) []statement {
	raw, _ := lookup(doc, "Statement")
	if m := asMap(raw); m != nil {
		return []statement{{where: where + ".Statement", fields: m}}
	}
	var out []statement
	for i, e := range asList(raw) {
		out = append(out, statement{where: fmt.Sprintf("%s.Statement[%d]", where, i), fields: asMap(e)})
	}
	return out
}

// actionMatches reports whether an IAM action pattern (with * and ? wildcards, compared without
// regard to case, as IAM does) covers action.
func actionMatches(pattern, action string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return err == nil && ok
}

// effect returns the statement's Effect as written ("Allow", "Deny", or anything else).
func (s statement) effect() string {
	e, _ := s.fields["Effect"].(string)
	return e
}

// denies reports whether the statement is a Deny. IAM spells Effect exactly so; a Deny only takes
// permissions away, so no wildcard in it can grant anything.
func (s statement) denies() bool { return s.effect() == "Deny" }

// document is an IAM policy document declared in the template, with what it applies to.
type document struct {
	// owner is the logical ID of the resource that declares the document.
	owner string
	// where locates the document in owner for messages: Policies[0].PolicyDocument, KeyPolicy.
	where string
	// value is the document as written: {Version, Statement}.
	value template.Value
	// governs are the logical IDs it applies to: the roles of an identity policy (its role, the
	// Roles of an AWS::IAM::Policy, the RoleName of an AWS::IAM::RolePolicy), the queues, topics,
	// bucket or key of a resource policy. Only !Ref of a logical ID counts.
	governs []string
}

// statements returns the document's statements.
func (d document) statements() []statement { return statementsIn(d.where, d.value) }

// IAM resource types the rules read.
const (
	typeRole          = "AWS::IAM::Role"
	typeIAMPolicy     = "AWS::IAM::Policy"
	typeManagedPolicy = "AWS::IAM::ManagedPolicy"
	typeRolePolicy    = "AWS::IAM::RolePolicy"
	typeQueuePolicy   = "AWS::SQS::QueuePolicy"
	typeTopicPolicy   = "AWS::SNS::TopicPolicy"
	typeBucketPolicy  = "AWS::S3::BucketPolicy"
	typeKey           = "AWS::KMS::Key"
)

// identityPolicies returns every identity policy document of t: each role's inline Policies, and
// every AWS::IAM::Policy, AWS::IAM::ManagedPolicy and AWS::IAM::RolePolicy, with the roles each
// applies to.
func identityPolicies(t *template.Template) []document {
	var out []document
	for _, r := range t.OfType(typeRole) {
		for i, p := range asList(r.Properties["Policies"]) {
			doc, _ := lookup(p, "PolicyDocument")
			out = append(out, document{owner: r.LogicalID, where: fmt.Sprintf("Policies[%d].PolicyDocument", i), value: doc, governs: []string{r.LogicalID}})
		}
	}
	for _, typ := range []string{typeIAMPolicy, typeManagedPolicy, typeRolePolicy} {
		for _, r := range t.OfType(typ) {
			roles := r.Properties["Roles"]
			if typ == typeRolePolicy {
				roles = r.Properties["RoleName"]
			}
			out = append(out, document{owner: r.LogicalID, where: "PolicyDocument", value: r.Properties["PolicyDocument"], governs: refsIn(roles)})
		}
	}
	return out
}

// resourcePolicies returns every resource-based policy document of t: queue, topic and bucket
// policies with the resources they are attached to, and each KMS key's KeyPolicy.
func resourcePolicies(t *template.Template) []document {
	var out []document
	for _, p := range []struct{ typ, attachedTo string }{
		{typeQueuePolicy, "Queues"}, {typeTopicPolicy, "Topics"}, {typeBucketPolicy, "Bucket"},
	} {
		for _, r := range t.OfType(p.typ) {
			out = append(out, document{owner: r.LogicalID, where: "PolicyDocument", value: r.Properties["PolicyDocument"], governs: refsIn(r.Properties[p.attachedTo])})
		}
	}
	for _, k := range t.OfType(typeKey) {
		out = append(out, document{owner: k.LogicalID, where: "KeyPolicy", value: k.Properties["KeyPolicy"], governs: []string{k.LogicalID}})
	}
	return out
}

// refsIn returns the names that v, or each element of v when it is a list, is exactly a !Ref to.
func refsIn(v template.Value) []string {
	var out []string
	for _, e := range asList(v) {
		if name, ok := refOf(e); ok {
			out = append(out, name)
		}
	}
	return out
}
