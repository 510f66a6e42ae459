package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Effect of a statement: EffectAllow or EffectDeny.
type Effect string

// The two effects a statement may have.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Versions of the policy language. Only 2012-10-17 replaces ${...} policy variables; a document
// without a Version element is read as 2008-10-17, as IAM reads it.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Statement is one statement of a policy document.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions and NotActions are as written ("dynamodb:GetItem", "s3:Get*"); matching ignores case.
	Actions    []string
	NotActions []string
	// Resources and NotResources are ARN patterns as written; matching is case-sensitive.
	Resources    []string
	NotResources []string
	// Principals are those of a resource-based policy: "*", an ARN (an account ID is written as
	// its root ARN, arn:aws:iam::<account>:root), or "service:<name>" for a service principal.
	// Identity-based policies have none.
	Principals []string
	// Conditions must all hold for the statement to apply.
	Conditions []Condition
}

// Condition is one operator/key/values triple of a Condition block. Values are strings; the
// policy's true, false and numbers are written as IAM compares them ("true", "10").
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Policy is one policy document. Source says where it came from, for log lines
// ("SubmitJobRole inline policy jobs").
type Policy struct {
	Source string
	// Version is the policy language version: Version2012 or Version2008.
	Version    string
	Statements []Statement
}

// Actions returns every action the policy's Action elements name, in order, each once. NotAction
// entries are left out: they name what a statement does not cover.
func (p Policy) Actions() []string {
	var out []string
	for _, s := range p.Statements {
		for _, a := range s.Actions {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// conditionKeys are the condition keys the evaluator knows, lower-cased (keys are
// case-insensitive), with whether each may have several values in one request.
var conditionKeys = map[string]bool{
	"aws:securetransport":             false,
	"aws:sourcearn":                   false,
	"aws:sourceaccount":               false,
	"aws:principalarn":                false,
	"aws:requestedregion":             false,
	"s3:prefix":                       false,
	"s3:delimiter":                    false,
	"s3:max-keys":                     false,
	"s3:x-amz-server-side-encryption": false,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": false,
	"s3:x-amz-content-sha256":                        false,
	"s3:signatureage":                                false,
	"s3:authtype":                                    false,
	"s3:signatureversion":                            false,
	"dynamodb:leadingkeys":                           true,
	"dynamodb:attributes":                            true,
	"dynamodb:select":                                false,
	"dynamodb:returnvalues":                          false,
	"kms:viaservice":                                 false,
	"kms:calleraccount":                              false,
	"lambda:functionarn":                             false,
}

// conditionKeyPrefixes are the known keys that end in a name of the caller's choosing.
var conditionKeyPrefixes = []string{
	"s3:existingobjecttag/",
	"s3:requestobjecttag/",
	"kms:encryptioncontext:",
}

// KnownConditionKey reports whether the evaluator knows the condition key, compared without
// regard to case as IAM compares keys: a policy naming any other key is refused, because a
// condition the evaluator cannot judge must not silently pass or fail.
func KnownConditionKey(key string) bool {
	k := strings.ToLower(key)
	if _, ok := conditionKeys[k]; ok {
		return true
	}
	for _, p := range conditionKeyPrefixes {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// multivalued reports whether a known key may carry several values in one request.
func multivalued(key string) bool {
	return conditionKeys[strings.ToLower(key)]
}

// ParsePolicy reads a resolved policy document: a mapping with Version, an optional Id and
// Statement, where Statement is one mapping or a list; Action, NotAction, Resource and NotResource
// are a string or a list; condition values are a string, bool, number or a list of them. A JSON
// string holding such a document is read too (CloudFormation accepts both).
//
// It refuses what IAM refuses, and what the evaluator could not judge: a Version other than
// 2012-10-17 or 2008-10-17; a statement without Effect or with another Effect than Allow or Deny;
// both or neither of Action and NotAction, of Resource and NotResource; an unknown element; a
// NotPrincipal; a malformed action or resource; a policy variable that is unknown or outside the
// resource part of an ARN; a condition operator other than the String, Arn, Numeric, Bool and Null
// families (with ...IfExists and the ForAnyValue:/ForAllValues: qualifiers); and a condition key
// KnownConditionKey does not know.
func ParsePolicy(source string, doc any) (Policy, error) {
	p, err := parsePolicy(source, doc)
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", source, err)
	}
	return p, nil
}

func parsePolicy(source string, doc any) (Policy, error) {
	if s, ok := doc.(string); ok {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return Policy{}, fmt.Errorf("decode JSON document: %w", err)
		}
		doc = v
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return Policy{}, errors.New("document is not a mapping")
	}
	for _, k := range sortedKeys(m) {
		if k != "Version" && k != "Id" && k != "Statement" {
			return Policy{}, fmt.Errorf("unknown policy element %q", k)
		}
	}
	p := Policy{Source: source, Version: Version2008}
	if v, ok := m["Version"]; ok {
		switch s, _ := v.(string); s {
		case Version2012, Version2008:
			p.Version = s
		default:
			return Policy{}, fmt.Errorf("Version %v: the policy language has versions %s and %s", v, Version2012, Version2008)
		}
	}
	var list []any
	switch s := m["Statement"].(type) {
	case nil:
		return Policy{}, errors.New("no Statement")
	case map[string]any:
		list = []any{s}
	case []any:
		list = s
	default:
		return Policy{}, errors.New("Statement is neither a mapping nor a list")
	}
	if len(list) == 0 {
		return Policy{}, errors.New("Statement is empty")
	}
	for i, e := range list {
		st, err := parseStatement(e, p.Version == Version2012)
		if err != nil {
			return Policy{}, fmt.Errorf("statement %d: %w", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// parseStatement reads one statement; vars says whether ${...} are policy variables.
func parseStatement(v any, vars bool) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, errors.New("not a mapping")
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition":
		case "NotPrincipal":
			return Statement{}, errors.New("NotPrincipal is not evaluated locally; name the principals in Principal")
		default:
			return Statement{}, fmt.Errorf("unknown statement element %q", k)
		}
	}

	var st Statement
	if sid, ok := m["Sid"]; ok {
		if st.Sid, ok = sid.(string); !ok {
			return Statement{}, fmt.Errorf("Sid %v is not a string", sid)
		}
	}
	switch e, _ := m["Effect"].(string); Effect(e) {
	case EffectAllow, EffectDeny:
		st.Effect = Effect(e)
	case "":
		return Statement{}, errors.New("no Effect")
	default:
		return Statement{}, fmt.Errorf("Effect %q is neither Allow nor Deny", e)
	}

	var err error
	if st.Actions, st.NotActions, err = either(m, "Action", "NotAction"); err != nil {
		return Statement{}, err
	}
	for _, a := range append(slices.Clip(st.Actions), st.NotActions...) {
		if err := checkAction(a); err != nil {
			return Statement{}, err
		}
	}
	if st.Resources, st.NotResources, err = either(m, "Resource", "NotResource"); err != nil {
		return Statement{}, err
	}
	for _, r := range append(slices.Clip(st.Resources), st.NotResources...) {
		if err := checkResource(r, vars); err != nil {
			return Statement{}, err
		}
	}
	if p, ok := m["Principal"]; ok {
		if st.Principals, err = parsePrincipal(p); err != nil {
			return Statement{}, fmt.Errorf("Principal: %w", err)
		}
	}
	if c, ok := m["Condition"]; ok {
		if st.Conditions, err = parseConditions(c, vars); err != nil {
			return Statement{}, fmt.Errorf("Condition: %w", err)
		}
	}
	return st, nil
}

// either reads the one element of a pair (Action/NotAction, Resource/NotResource) a statement
// must have exactly one of.
func either(m map[string]any, name, notName string) (list, notList []string, err error) {
	v, has := m[name]
	nv, hasNot := m[notName]
	switch {
	case has && hasNot:
		return nil, nil, fmt.Errorf("both %s and %s", name, notName)
	case has:
		list, err = stringList(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	case hasNot:
		notList, err = stringList(nv)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", notName, err)
		}
	default:
		return nil, nil, fmt.Errorf("neither %s nor %s", name, notName)
	}
	return list, notList, nil
}

// stringList reads a string or a non-empty list of strings.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		if len(x) == 0 {
			return nil, errors.New("empty list")
		}
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%v is neither a string nor a list of strings", v)
	}
}

// checkAction refuses what is not "*" or service:action, with wildcards only in the action.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" {
		return fmt.Errorf("action %q is not service:action", a)
	}
	for _, r := range service {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
			return fmt.Errorf("action %q: the service prefix is a plain name, without wildcards", a)
		}
	}
	return nil
}

// checkResource refuses what is not "*" or an ARN of six colon-separated parts, a wildcard in
// the service, and policy variables outside the resource part.
func checkResource(r string, vars bool) error {
	if r == "*" {
		return nil
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return fmt.Errorf("resource %q is neither * nor an ARN (arn:partition:service:region:account:resource)", r)
	}
	if parts[2] == "" || strings.ContainsAny(parts[2], "*?") {
		return fmt.Errorf("resource %q: the service part of an ARN is a plain name, without wildcards", r)
	}
	if !vars {
		return nil
	}
	if strings.Contains(strings.Join(parts[:5], ":"), "${") {
		return fmt.Errorf("resource %q: policy variables may appear only in the resource part of an ARN, after the fifth colon", r)
	}
	if err := checkVariables(parts[5]); err != nil {
		return fmt.Errorf("resource %q: %w", r, err)
	}
	return nil
}

// parsePrincipal flattens a Principal element: "*", {"AWS": ...}, {"Service": ...}.
func parsePrincipal(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, fmt.Errorf("%q: a principal is \"*\" or a mapping such as {AWS: arn}", s)
		}
		return []string{"*"}, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, fmt.Errorf("%v is neither \"*\" nor a mapping of principals", v)
	}
	var out []string
	for _, kind := range sortedKeys(m) {
		values, err := stringList(m[kind])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		for _, p := range values {
			switch kind {
			case "AWS":
				arn, err := awsPrincipal(p)
				if err != nil {
					return nil, err
				}
				out = append(out, arn)
			case "Service":
				if p == "" || strings.ContainsAny(p, "*?") {
					return nil, fmt.Errorf("service principal %q is not a service name", p)
				}
				out = append(out, "service:"+p)
			default:
				return nil, fmt.Errorf("%s principals are not evaluated locally", kind)
			}
		}
	}
	return out, nil
}

// awsPrincipal normalises an AWS principal: "*", an account ID (written as the account's root
// ARN, as IAM stores it) or an ARN without wildcards.
func awsPrincipal(p string) (string, error) {
	if p == "*" {
		return "*", nil
	}
	if len(p) == 12 && strings.Trim(p, "0123456789") == "" {
		return "arn:aws:iam::" + p + ":root", nil
	}
	if !strings.HasPrefix(p, "arn:") || len(strings.SplitN(p, ":", 6)) < 6 {
		return "", fmt.Errorf("AWS principal %q is neither *, an account ID nor an ARN", p)
	}
	if strings.ContainsAny(p, "*?") {
		return "", fmt.Errorf("AWS principal %q: a principal ARN cannot hold wildcards; use a condition on aws:PrincipalArn", p)
	}
	return p, nil
}

// parseConditions reads a Condition block: operator → key → value or values.
func parseConditions(v any, vars bool) ([]Condition, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a mapping of operators", v)
	}
	var out []Condition
	for _, opName := range sortedKeys(m) {
		op, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		keys, ok := m[opName].(map[string]any)
		if !ok || len(keys) == 0 {
			return nil, fmt.Errorf("%s: not a mapping of condition keys", opName)
		}
		for _, key := range sortedKeys(keys) {
			if !KnownConditionKey(key) {
				return nil, fmt.Errorf("%s: condition key %q is not one the local evaluator knows", opName, key)
			}
			values, err := conditionValues(keys[key])
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", opName, key, err)
			}
			for _, value := range values {
				if err := op.check(value, vars); err != nil {
					return nil, fmt.Errorf("%s %s: %w", opName, key, err)
				}
			}
			out = append(out, Condition{Operator: opName, Key: key, Values: values})
		}
	}
	return out, nil
}

// conditionValues reads a condition's value or values as the strings IAM compares.
func conditionValues(v any) ([]string, error) {
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, errors.New("no values")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, strconv.FormatBool(x))
		case int:
			out = append(out, strconv.Itoa(x))
		case int64:
			out = append(out, strconv.FormatInt(x, 10))
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		default:
			return nil, fmt.Errorf("value %v is not a string, bool or number", e)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
