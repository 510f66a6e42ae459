package template

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// lambdaService is the one principal a function's role trusts.
const lambdaService = "lambda.amazonaws.com"

// samGeneratesRole says what SAM does for a function without a Role of its own.
const samGeneratesRole = "SAM generates a role for it with AWS managed policies (logs on every log group; for an SQS, DynamoDB or Kinesis event, every queue or stream)"

// checkFunctionsHaveTheirOwnRoles: every function names its own role, Role: !GetAtt <role>.Arn of
// an AWS::IAM::Role of the template that no other function uses, and has no SAM Policies (with a
// Role SAM ignores them; without one it generates a role with AWS managed policies). The role
// trusts lambda.amazonaws.com alone, and its logs statements name the function's own log group,
// where it may create streams and put events.
func checkFunctionsHaveTheirOwnRoles(t *template.Template) []string {
	fns, out := functionsOf(t)
	users := map[string][]string{} // role → the functions whose Role it is
	for _, f := range fns {
		role, hasRole := f.Properties["Role"]
		_, hasPolicies := f.Properties["Policies"]
		switch {
		case !hasRole && hasPolicies:
			out = append(out, fmt.Sprintf("%s: has Policies and no Role, so %s; give it an %s of its own", f.LogicalID, samGeneratesRole, typeRole))
			continue
		case !hasRole:
			out = append(out, fmt.Sprintf("%s: has no Role, so %s; give it an %s of its own", f.LogicalID, samGeneratesRole, typeRole))
			continue
		case hasPolicies:
			out = append(out, fmt.Sprintf("%s: has Policies, which SAM ignores because Role is set; state them in the role", f.LogicalID))
		}
		id, attr, ok := getAttOf(role)
		if !ok || attr != "Arn" || t.Resources[id].Type != typeRole {
			out = append(out, fmt.Sprintf("%s: Role %s is not !GetAtt <declared %s>.Arn", f.LogicalID, show(role), typeRole))
			continue
		}
		users[id] = append(users[id], f.LogicalID)
	}

	policies := identityPolicies(t)
	byID := map[string]template.Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
	}
	for _, role := range sortedKeys(users) {
		out = append(out, trustProblems(t.Resources[role])...)
		if fs := users[role]; len(fs) > 1 {
			out = append(out, fmt.Sprintf("%s: is the Role of %s; each function gets a role of its own, holding only what that function needs", role, strings.Join(fs, ", ")))
			continue
		}
		out = append(out, logsProblems(t, byID[users[role][0]], role, policies)...)
	}
	return out
}

// trustProblems lists what lets anyone but Lambda assume a function's role.
func trustProblems(r template.Resource) []string {
	doc := document{owner: r.LogicalID, where: "AssumeRolePolicyDocument", value: r.Properties["AssumeRolePolicyDocument"]}
	statements := doc.statements()
	if len(statements) == 0 {
		return []string{fmt.Sprintf("%s: AssumeRolePolicyDocument has no Statement", r.LogicalID)}
	}
	var out []string
	for _, s := range statements {
		if s.denies() {
			continue
		}
		for _, not := range []string{"NotPrincipal", "NotAction"} {
			if _, ok := s.fields[not]; ok {
				out = append(out, fmt.Sprintf("%s: %s uses %s, which trusts everything not listed", r.LogicalID, s.where, not))
			}
		}
		if service, ok := onlyService(s.fields["Principal"]); !ok || service != lambdaService {
			out = append(out, fmt.Sprintf("%s: %s trusts Principal %s; a function's role trusts %s alone", r.LogicalID, s.where, show(s.fields["Principal"]), lambdaService))
		}
		if a := s.actions(); len(a) != 1 || a[0] != "sts:AssumeRole" {
			out = append(out, fmt.Sprintf("%s: %s allows Action %s; a function's role allows sts:AssumeRole alone", r.LogicalID, s.where, show(s.fields["Action"])))
		}
	}
	return out
}

// logsProblems lists the logs statements of role (the Role of f alone) that name another log group
// than f's own, and the actions f needs to log that it lacks there. Without them Lambda drops the
// function's logs without an error anywhere.
func logsProblems(t *template.Template, f template.Function, role string, policies []document) []string {
	v, _ := lookup(f.Properties, "LoggingConfig", "LogGroup")
	group, ok := refOf(v)
	if !ok || t.Resources[group].Type != typeLogGroup {
		return nil // FunctionsLogJSONToRetainedGroups reports it
	}
	need := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	granted := map[string]bool{}
	var out []string
	for _, d := range policies {
		if !slices.Contains(d.governs, role) {
			continue
		}
		for _, s := range d.statements() {
			if s.denies() || !slices.ContainsFunc(s.actions(), isLogsAction) {
				continue
			}
			own := len(s.resources()) > 0
			for _, r := range s.resources() {
				if id, attr, ok := getAttOf(r); !ok || id != group || attr != "Arn" {
					own = false
					out = append(out, fmt.Sprintf("%s: %s grants %s logs actions on %s, not on its own log group (!GetAtt %s.Arn)", d.owner, s.where, f.LogicalID, show(r), group))
				}
			}
			for _, a := range s.actions() {
				pattern, _ := a.(string)
				for _, n := range need {
					granted[n] = granted[n] || (own && actionMatches(pattern, n))
				}
			}
		}
	}
	for _, n := range need {
		if !granted[n] {
			out = append(out, fmt.Sprintf("%s: grants %s no %s on its log group (!GetAtt %s.Arn), so its logs are lost", role, f.LogicalID, n, group))
		}
	}
	return out
}

// isLogsAction reports whether an Action element is a CloudWatch Logs action.
func isLogsAction(a template.Value) bool {
	name, _ := a.(string)
	return strings.HasPrefix(strings.ToLower(name), "logs:")
}

// onlyService returns the service of a Principal that is exactly one service principal:
// {Service: x} or {Service: [x]}.
func onlyService(p template.Value) (string, bool) {
	m := asMap(p)
	services := asList(m["Service"])
	if len(m) != 1 || len(services) != 1 {
		return "", false
	}
	s, ok := services[0].(string)
	return s, ok
}

// checkPoliciesAreLeastPrivilege: no role has ManagedPolicyArns; every Allow statement of an
// identity policy (a role's inline Policies, AWS::IAM::Policy, AWS::IAM::ManagedPolicy,
// AWS::IAM::RolePolicy) names exact actions (no wildcard) on declared resources (Ref, GetAtt or
// Sub of one, no wildcard beyond the documented exceptions); every Allow statement of a resource
// policy (queue, topic, bucket and key policies) names one service principal scoped to its source,
// or is the account's standard statement in a key policy. Deny statements grant nothing, so they
// may be as broad as they like.
func checkPoliciesAreLeastPrivilege(t *template.Template) []string {
	var out []string
	for _, r := range t.OfType(typeRole) {
		for _, arn := range asList(r.Properties["ManagedPolicyArns"]) {
			out = append(out, fmt.Sprintf("%s: ManagedPolicyArns attaches %s; state the actions and resources in the role's own Policies", r.LogicalID, show(arn)))
		}
	}
	for _, d := range identityPolicies(t) {
		out = append(out, documentProblems(t, d)...)
	}
	for _, d := range resourcePolicies(t) {
		statements := d.statements()
		if len(statements) == 0 {
			out = append(out, fmt.Sprintf("%s: %s has no Statement", d.owner, d.where))
		}
		for _, s := range statements {
			out = append(out, resourceStatementProblems(t, d, s)...)
		}
	}
	return out
}

// documentProblems lists what makes an identity policy document broader than least privilege.
func documentProblems(t *template.Template, d document) []string {
	statements := d.statements()
	if len(statements) == 0 {
		return []string{fmt.Sprintf("%s: %s has no Statement", d.owner, d.where)}
	}
	var out []string
	for _, s := range statements {
		out = append(out, statementProblems(t, d.owner, s)...)
	}
	return out
}

// statementProblems lists what makes one identity-policy statement broader than least privilege.
func statementProblems(t *template.Template, id string, s statement) []string {
	if s.denies() {
		return nil
	}
	out := notProblems(id, s)
	out = append(out, actionProblems(id, s)...)
	return append(out, resourceProblems(t, id, s)...)
}

// notProblems reports NotAction and NotResource, which allow everything they do not list.
func notProblems(id string, s statement) []string {
	var out []string
	for _, not := range []string{"NotAction", "NotResource"} {
		if _, ok := s.fields[not]; ok {
			out = append(out, fmt.Sprintf("%s: %s uses %s, which grants everything not listed", id, s.where, not))
		}
	}
	return out
}

// actionProblems reports a statement without actions and actions that are not exact names.
func actionProblems(id string, s statement) []string {
	var out []string
	if len(s.actions()) == 0 {
		out = append(out, fmt.Sprintf("%s: %s has no Action", id, s.where))
	}
	for _, a := range s.actions() {
		switch name, ok := a.(string); {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s Action %s is not a literal action name", id, s.where, show(a)))
		case strings.ContainsAny(name, "*?"):
			out = append(out, fmt.Sprintf("%s: %s Action %q is a wildcard; name each action", id, s.where, name))
		}
	}
	return out
}

// resourceProblems reports a statement without resources and resources that are not exactly
// declared resources, apart from the documented exceptions.
func resourceProblems(t *template.Template, id string, s statement) []string {
	var out []string
	if len(s.resources()) == 0 {
		out = append(out, fmt.Sprintf("%s: %s has no Resource", id, s.where))
	}
	for _, r := range s.resources() {
		if lit, ok := r.(string); ok {
			if lit == "*" && writesTraces(s) {
				continue // X-Ray has no resource-level permissions: see writesTraces
			}
			if strings.Contains(lit, "*") {
				out = append(out, fmt.Sprintf("%s: %s Resource %q is a wildcard; name the resource", id, s.where, lit))
			} else {
				out = append(out, fmt.Sprintf("%s: %s Resource %q is a literal; refer to a declared resource with !Ref, !GetAtt or !Sub", id, s.where, lit))
			}
			continue
		}
		fn, arg, _ := intrinsic(r)
		switch fn {
		case "Ref", "Fn::GetAtt", "Fn::Sub":
		default:
			out = append(out, fmt.Sprintf("%s: %s Resource %s is not !Ref, !GetAtt or !Sub of a declared resource", id, s.where, show(r)))
			continue
		}
		if fn == "Fn::Sub" {
			tmpl, _ := arg.(string)
			if l, ok := arg.([]template.Value); ok && len(l) > 0 {
				tmpl, _ = l[0].(string)
			}
			if strings.Contains(tmpl, "*") && !objectPrefix(t, tmpl) && !tableStreams(t, tmpl, s) {
				out = append(out, fmt.Sprintf("%s: %s Resource %s contains a wildcard; name the resource (or, for S3 objects, a key prefix: ${Bucket.Arn}/prefix/*)", id, s.where, show(r)))
				continue
			}
			if len(resourcesIn(t, r)) == 0 && namesParameter(t, r) {
				continue // an exact ARN of something made outside the stack, named by a parameter
			}
		}
		if len(resourcesIn(t, r)) == 0 {
			out = append(out, fmt.Sprintf("%s: %s Resource %s refers to no declared resource", id, s.where, show(r)))
		}
	}
	return out
}

// objectKeyPrefix is the first wildcard least privilege allows: S3 object ARNs under a fixed key
// prefix of a declared bucket (${UploadsBucket.Arn}/uploads/*). Objects have no ARN of their own
// until they exist, so a prefix is as exact as an object resource can be; the whole bucket
// (${Bucket.Arn}/*) is not.
var objectKeyPrefix = regexp.MustCompile(`^\$\{([A-Za-z0-9]+)\.Arn\}/([A-Za-z0-9_.\-]+/)+\*$`)

// objectPrefix reports whether a Fn::Sub template is an object key prefix of a declared bucket.
func objectPrefix(t *template.Template, tmpl string) bool {
	m := objectKeyPrefix.FindStringSubmatch(tmpl)
	return m != nil && t.Resources[m[1]].Type == typeBucket
}

// tableStreamsPattern is the second wildcard least privilege allows: dynamodb:ListStreams, and
// nothing else, on the streams of a declared table (${Table.Arn}/stream/*), the form of SAM's own
// DynamoDBStreamReadPolicy. It can grant nothing more: AWS's Service Authorization Reference gives
// ListStreams no resource type, so IAM matches it only on "*" and this grant on no request at all.
// A template does not need it (Lambda's stream mapping reads the stream named by its ARN); it is
// allowed so that SAM's form is not reported as a wildcard.
var tableStreamsPattern = regexp.MustCompile(`^\$\{([A-Za-z0-9]+)\.Arn\}/stream/\*$`)

// tableStreams reports whether a Fn::Sub template is the streams of a declared table and the
// statement s allows dynamodb:ListStreams alone.
func tableStreams(t *template.Template, tmpl string, s statement) bool {
	m := tableStreamsPattern.FindStringSubmatch(tmpl)
	if m == nil || t.Resources[m[1]].Type != typeTable || len(s.actions()) == 0 {
		return false
	}
	for _, a := range s.actions() {
		if name, _ := a.(string); !strings.EqualFold(name, "dynamodb:ListStreams") {
			return false
		}
	}
	return true
}

// namesParameter reports whether v refers to a template parameter: an ARN built from a parameter
// (an SSM parameter's name, say) names one thing created outside the stack, such as a SecureString
// CloudFormation cannot create. In the flattened form a nested template's parameter that the root
// does not pass is its default, written as a Fn::Sub variable bound to that literal
// (template.LoadApp); there, and only there (each file is checked as written too), such a
// literal without a wildcard counts as the parameter it was.
func namesParameter(t *template.Template, v template.Value) bool {
	for _, ref := range template.References(v) {
		if _, ok := t.Parameters[ref]; ok {
			return true
		}
	}
	if name, arg, ok := intrinsic(v); ok && name == "Fn::Sub" && len(t.Apps) > 0 {
		if l := asList(arg); len(l) == 2 {
			for _, bound := range asMap(l[1]) {
				if s, ok := bound.(string); ok && s != "" && !strings.Contains(s, "*") {
					return true
				}
			}
		}
	}
	return false
}

// resourceStatementProblems lists what makes one statement of a resource policy (queue, topic,
// bucket or key policy) broader than least privilege. A resource policy grants to principals
// outside the account's IAM, so an Allow names exactly one service principal and the source it
// acts for (aws:SourceArn of a declared resource, or aws:SourceAccount): without that, the service
// could be made to act here on behalf of any account's resources (a confused deputy). The one
// other Allow is the key policy's standard statement (see administersKey). Deny statements, such as
// the TLS-only Deny of every action for Principal "*", grant nothing and are not judged.
func resourceStatementProblems(t *template.Template, d document, s statement) []string {
	isKey := t.Resources[d.owner].Type == typeKey
	if s.denies() || (isKey && administersKey(s)) {
		return nil
	}
	var out []string
	if _, ok := s.fields["NotPrincipal"]; ok {
		out = append(out, fmt.Sprintf("%s: %s uses NotPrincipal, which allows everyone not listed", d.owner, s.where))
	}
	service, ok := onlyService(s.fields["Principal"])
	switch {
	case !ok:
		out = append(out, fmt.Sprintf("%s: %s allows Principal %s; an Allow in a resource policy names one service principal, scoped by aws:SourceArn or aws:SourceAccount", d.owner, s.where, show(s.fields["Principal"])))
	case !scopedToSource(t, s.fields["Condition"]):
		out = append(out, fmt.Sprintf("%s: %s allows %s without an aws:SourceArn (of a declared resource) or aws:SourceAccount condition, so the service may act here for anyone's resources", d.owner, s.where, service))
	}
	out = append(out, notProblems(d.owner, s)...)
	out = append(out, actionProblems(d.owner, s)...)
	if !isKey {
		return append(out, resourceProblems(t, d.owner, s)...)
	}
	for _, r := range s.resources() {
		if r != "*" {
			out = append(out, fmt.Sprintf("%s: %s Resource %s; in a key policy the Resource is \"*\", the key itself", d.owner, s.where, show(r)))
		}
	}
	return out
}

// accountRoot is the principal of a key policy's standard statement: the account itself.
const accountRoot = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"

// administersKey reports whether s is the standard statement of a key policy: Allow kms:* on "*"
// (the key) to the account root (!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root). It is
// AWS's default key policy: it grants no one the key by itself but lets the account's IAM
// policies grant it (each role then names the key and the operations it needs); without it, a
// key can become unmanageable until AWS Support steps in.
func administersKey(s statement) bool {
	p := asMap(s.fields["Principal"])
	name, arg, _ := intrinsic(p["AWS"])
	return len(p) == 1 && name == "Fn::Sub" && arg == accountRoot &&
		reflect.DeepEqual(s.actions(), []template.Value{"kms:*"}) &&
		reflect.DeepEqual(s.resources(), []template.Value{"*"})
}

// scopedToSource reports whether a statement's Condition limits a service principal to one source:
// aws:SourceArn with values that each refer to a declared resource, or aws:SourceAccount of this
// account. Negated and IfExists operators do not limit it.
func scopedToSource(t *template.Template, condition template.Value) bool {
	ops := asMap(condition)
	for _, op := range sortedKeys(ops) {
		if strings.Contains(op, "Not") || strings.HasSuffix(op, "IfExists") {
			continue
		}
		keys := asMap(ops[op])
		for _, key := range sortedKeys(keys) {
			values := asList(keys[key])
			if len(values) == 0 {
				continue
			}
			switch strings.ToLower(key) {
			case "aws:sourcearn":
				if !slices.ContainsFunc(values, func(v template.Value) bool { return len(resourcesIn(t, v)) == 0 }) {
					return true
				}
			case "aws:sourceaccount":
				if !slices.ContainsFunc(values, func(v template.Value) bool { id, _ := refOf(v); return id != "AWS::AccountId" }) {
					return true
				}
			}
		}
	}
	return false
}

// tlsOnlyTypes are the resources that must refuse plain HTTP, each with the resource policy that
// can say so, the action its Deny must cover and the resources it must name (shown as written).
var tlsOnlyTypes = []struct {
	typ, policy string
	// action is matched against the Deny's actions: every SQS and S3 action; for SNS, sns:Publish,
	// the action that carries messages, which AWS's own example denies (a topic policy with sns:*
	// has been reported to fail to deploy: github.com/cdklabs/cdk-nag/issues/676).
	action string
	arns   func(id string) []string
}{
	{typeQueue, typeQueuePolicy, "sqs:*", func(id string) []string { return []string{"!GetAtt " + id + ".Arn"} }},
	{typeTopic, typeTopicPolicy, "sns:Publish", func(id string) []string { return []string{"!Ref " + id} }},
	{typeBucket, typeBucketPolicy, "s3:*", func(id string) []string {
		return []string{"!GetAtt " + id + ".Arn", `!Sub "${` + id + `.Arn}/*"`}
	}},
}

// checkTransportIsTLSOnly: every queue, topic and bucket is covered by a resource policy that
// denies every principal its actions over plain HTTP (Condition Bool aws:SecureTransport false) on
// its own ARN (for a bucket, also on its objects, ${Bucket.Arn}/*). The SDKs use HTTPS, but nothing
// else stops a client from sending messages or objects in the clear.
func checkTransportIsTLSOnly(t *template.Template) []string {
	var out []string
	policies := resourcePolicies(t)
	for _, k := range tlsOnlyTypes {
		for _, r := range t.OfType(k.typ) {
			arns := k.arns(r.LogicalID)
			var covering []string
			denied := false
			for _, d := range policies {
				if t.Resources[d.owner].Type != k.policy || !slices.Contains(d.governs, r.LogicalID) {
					continue
				}
				covering = append(covering, d.owner)
				denied = denied || slices.ContainsFunc(d.statements(), func(s statement) bool { return deniesPlainHTTP(s, k.action, arns) })
			}
			want := fmt.Sprintf(`a Deny of %s for Principal "*" on %s when aws:SecureTransport is false`, k.action, strings.Join(arns, " and "))
			switch {
			case len(covering) == 0:
				out = append(out, fmt.Sprintf("%s: no %s covers it, so it accepts requests over plain HTTP; want one with %s", r.LogicalID, k.policy, want))
			case !denied:
				out = append(out, fmt.Sprintf("%s: %s has no %s", r.LogicalID, strings.Join(covering, ", "), want))
			}
		}
	}
	return out
}

// deniesPlainHTTP reports whether s denies everyone action on every one of arns (as written) when
// the request does not use TLS.
func deniesPlainHTTP(s statement, action string, arns []string) bool {
	if !s.denies() || !everyone(s.fields["Principal"]) {
		return false
	}
	if !slices.ContainsFunc(s.actions(), func(a template.Value) bool { p, _ := a.(string); return actionMatches(p, action) }) {
		return false
	}
	var named []string
	for _, r := range s.resources() {
		named = append(named, show(r))
	}
	for _, arn := range arns {
		if !slices.Contains(named, arn) {
			return false
		}
	}
	b, _ := lookup(s.fields["Condition"], "Bool")
	secure, _ := lookupFold(b, "aws:SecureTransport")
	return secure == false || secure == "false"
}

// everyone reports whether a Principal is every principal: "*" or {AWS: "*"}.
func everyone(p template.Value) bool {
	if p == "*" {
		return true
	}
	m := asMap(p)
	aws := asList(m["AWS"])
	return len(m) == 1 && len(aws) == 1 && aws[0] == "*"
}

// checkSAMTransformAddsNoPermissions: what CloudFormation receives after SAM's transform grants
// nothing the template does not state. No role exists that the template does not declare (SAM
// generates one for a function without a Role), and no role, policy or statement SAM made or
// changed has ManagedPolicyArns or is broader than PoliciesAreLeastPrivilege allows (SAM
// connectors, for one, grant on ${Table.Arn}/index/*). What the transform passes through as
// written is PoliciesAreLeastPrivilege's to judge, so each fault is reported once.
func checkSAMTransformAddsNoPermissions(source, transformed *template.Template) []string {
	samMade := func(r template.Resource) bool {
		s, ok := source.Resources[r.LogicalID]
		return !ok || s.Type != r.Type || !reflect.DeepEqual(s.Properties, r.Properties)
	}
	users := map[string][]string{} // role → the functions it serves
	for _, f := range transformed.OfType("AWS::Lambda::Function") {
		if role, attr, ok := getAttOf(f.Properties["Role"]); ok && attr == "Arn" {
			users[role] = append(users[role], f.LogicalID)
		}
	}

	var out []string
	for _, r := range transformed.OfType(typeRole) {
		if !samMade(r) {
			continue
		}
		if _, declared := source.Resources[r.LogicalID]; !declared {
			serves := ""
			if fs := users[r.LogicalID]; len(fs) > 0 {
				serves = " for " + strings.Join(fs, ", ")
			}
			out = append(out, fmt.Sprintf("%s: SAM generates this role%s; the template declares no such role", r.LogicalID, serves))
		}
		for _, arn := range asList(r.Properties["ManagedPolicyArns"]) {
			out = append(out, fmt.Sprintf("%s: ManagedPolicyArns attaches %s, which SAM added", r.LogicalID, show(arn)))
		}
	}
	for _, d := range identityPolicies(transformed) {
		if samMade(transformed.Resources[d.owner]) {
			out = append(out, documentProblems(transformed, d)...)
		}
	}
	return out
}
