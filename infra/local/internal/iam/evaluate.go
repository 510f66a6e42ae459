package iam

import (
	"fmt"
	"strings"
)

// Request is one authorization question: may the principal perform Action on Resource?
type Request struct {
	// Action is service:action, as in "dynamodb:GetItem".
	Action string
	// Resource is the full ARN of the resource acted on, or "*" for an action that takes none.
	Resource string
	// Context holds the condition keys present in the request (aws:SecureTransport, s3:prefix,
	// ...) with their values. Key names are case-insensitive, as on AWS; a key that is not here
	// is absent from the request.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request.
type Decision int

// The three outcomes of AWS's policy evaluation.
const (
	// ImplicitDeny: no statement allows the request (and none denies it).
	ImplicitDeny Decision = iota
	// Allow: a statement allows the request and none denies it.
	Allow
	// ExplicitDeny: a Deny statement applies to the request, whatever else allows it.
	ExplicitDeny
)

// String returns the decision as IAM's documentation names it: "implicit deny", "allow" or
// "explicit deny".
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "implicit deny"
	case Allow:
		return "allow"
	case ExplicitDeny:
		return "explicit deny"
	default:
		return fmt.Sprintf("Decision(%d)", int(d))
	}
}

// Verdict is a decision with the statement that made it, for log lines that say why.
type Verdict struct {
	Decision Decision
	// Source is the Source of the policy whose statement decided; "" for an implicit deny.
	Source string
	// Statement is that statement's index in its policy, and Sid its Sid.
	Statement int
	Sid       string
}

// String describes the verdict: "explicit deny by UploadsBucketPolicy statement 0 (DenyPlainHTTP)".
func (v Verdict) String() string {
	if v.Source == "" {
		return v.Decision.String() + ": no statement allows it"
	}
	s := fmt.Sprintf("%s by %s statement %d", v.Decision, v.Source, v.Statement)
	if v.Sid != "" {
		s += " (" + v.Sid + ")"
	}
	return s
}

// Evaluate applies AWS's evaluation logic to a principal's identity-based policies: an explicit
// Deny in any statement of any policy wins; otherwise any matching Allow allows; otherwise the
// request is implicitly denied.
func Evaluate(req Request, policies ...Policy) Decision {
	return Authorize(req, "", policies, nil).Decision
}

// EvaluateWithResourcePolicy applies AWS's evaluation logic to a request within one account: it
// is allowed when the identity policies or the resource policy allow it, and an explicit Deny in
// either wins. A resource-policy statement applies only when its Principal matches principalARN
// (see Authorize). resource may be nil.
func EvaluateWithResourcePolicy(req Request, principalARN string, identity []Policy, resource *Policy) Decision {
	return Authorize(req, principalARN, identity, resource).Decision
}

// Authorize is EvaluateWithResourcePolicy with the statement that decided.
//
// A resource-policy statement applies to principalARN when its Principal is "*"; names
// principalARN; names the IAM role of a role session principalARN names
// (arn:aws:iam::<account>:role/<name> matches arn:aws:sts::<account>:assumed-role/<name>/<session>);
// or, for a Deny, names the account principalARN belongs to. An Allow naming the account grants
// nothing by itself: it delegates to the account's identity policies, which are evaluated anyway.
// A service principal is written "service:<name>" in principalARN, as ParsePolicy writes it.
func Authorize(req Request, principalARN string, identity []Policy, resource *Policy) Verdict {
	policies := identity
	if resource != nil {
		policies = append(policies[:len(policies):len(policies)], *resource)
	}
	isResource := func(i int) bool { return resource != nil && i == len(policies)-1 }

	// Deny first: it decides whatever the order of the policies.
	for _, effect := range []Effect{EffectDeny, EffectAllow} {
		for i, p := range policies {
			vars := p.Version == Version2012
			for j, s := range p.Statements {
				if s.Effect != effect || !s.applies(req, vars) {
					continue
				}
				if isResource(i) && !s.namesPrincipal(principalARN) {
					continue
				}
				d := Allow
				if effect == EffectDeny {
					d = ExplicitDeny
				}
				return Verdict{Decision: d, Source: p.Source, Statement: j, Sid: s.Sid}
			}
		}
	}
	return Verdict{Decision: ImplicitDeny}
}

// applies reports whether the statement covers the request's action and resource and all its
// conditions hold, whatever its effect.
func (s Statement) applies(req Request, vars bool) bool {
	if len(s.Actions) > 0 {
		if !anyAction(s.Actions, req.Action) {
			return false
		}
	} else if anyAction(s.NotActions, req.Action) {
		return false
	}
	if len(s.Resources) > 0 {
		if !anyResource(s.Resources, req, vars) {
			return false
		}
	} else if anyResource(s.NotResources, req, vars) {
		return false
	}
	for _, c := range s.Conditions {
		if !c.holds(req.Context, vars) {
			return false
		}
	}
	return true
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if actionMatches(p, action) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, req Request, vars bool) bool {
	for _, p := range patterns {
		if resourceMatches(p, req.Resource, vars, req.Context) {
			return true
		}
	}
	return false
}

// namesPrincipal reports whether a resource-policy statement applies to principalARN.
func (s Statement) namesPrincipal(principalARN string) bool {
	for _, p := range s.Principals {
		switch {
		case p == "*":
			return true
		case principalARN == "":
		case p == principalARN, sessionOfRole(principalARN, p):
			return true
		case s.Effect == EffectDeny && isAccountRoot(p) && accountOf(p) == accountOf(principalARN):
			return true
		}
	}
	return false
}

// sessionOfRole reports whether session (arn:aws:sts::<account>:assumed-role/<name>/<session>)
// is a session of role (arn:aws:iam::<account>:role/<path/><name>).
func sessionOfRole(session, role string) bool {
	s := strings.SplitN(session, ":", 6)
	r := strings.SplitN(role, ":", 6)
	if len(s) < 6 || len(r) < 6 || s[2] != "sts" || r[2] != "iam" || s[1] != r[1] || s[4] != r[4] {
		return false
	}
	rest, ok := strings.CutPrefix(s[5], "assumed-role/")
	if !ok {
		return false
	}
	name, _, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	rolePath, ok := strings.CutPrefix(r[5], "role/")
	if !ok {
		return false
	}
	// The session ARN leaves out the role's path.
	return rolePath[strings.LastIndex(rolePath, "/")+1:] == name
}

// isAccountRoot reports whether p is an account principal: arn:aws:iam::<account>:root.
func isAccountRoot(p string) bool {
	parts := strings.SplitN(p, ":", 6)
	return len(parts) == 6 && parts[2] == "iam" && parts[5] == "root"
}

// accountOf is the account field of an ARN, "" when there is none.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
