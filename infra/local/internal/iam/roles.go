package iam

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// Resource types whose policies the local runner reads from the template.
const (
	typeRole          = "AWS::IAM::Role"
	typePolicy        = "AWS::IAM::Policy"
	typeManagedPolicy = "AWS::IAM::ManagedPolicy"
	typeRolePolicy    = "AWS::IAM::RolePolicy"
	typeBucketPolicy  = "AWS::S3::BucketPolicy"
	typeQueuePolicy   = "AWS::SQS::QueuePolicy"
	typeTopicPolicy   = "AWS::SNS::TopicPolicy"
)

// The AWS managed policies SAM attaches to the roles it generates.
const (
	basicExecutionRole    = managedARNPrefix + "service-role/AWSLambdaBasicExecutionRole"
	durableExecutionRole  = managedARNPrefix + "service-role/AWSLambdaBasicDurableExecutionRolePolicy"
	sqsExecutionRole      = managedARNPrefix + "service-role/AWSLambdaSQSQueueExecutionRole"
	dynamoDBExecutionRole = managedARNPrefix + "service-role/AWSLambdaDynamoDBExecutionRole"
	kinesisExecutionRole  = managedARNPrefix + "service-role/AWSLambdaKinesisExecutionRole"
	mskExecutionRole      = managedARNPrefix + "service-role/AWSLambdaMSKExecutionRole"
	vpcAccessRole         = managedARNPrefix + "service-role/AWSLambdaVPCAccessExecutionRole"
	xrayWriteOnlyAccess   = managedARNPrefix + "AWSXrayWriteOnlyAccess"
)

// RoleLogicalID returns the logical ID of the AWS::IAM::Role a function names in Role, "" when
// it names none (SAM then generates one). Role must be Fn::GetAtt [<role>, Arn] of a role in the
// template: the policies of a role from elsewhere cannot be read.
func RoleLogicalID(t *template.Template, fn template.Function) (string, error) {
	id, err := roleLogicalID(t, fn)
	if err != nil {
		return "", fmt.Errorf("function %s: %w", fn.LogicalID, err)
	}
	return id, nil
}

func roleLogicalID(t *template.Template, fn template.Function) (string, error) {
	v, ok := fn.Properties["Role"]
	if !ok || v == nil {
		return "", nil
	}
	id, ok := getAttARN(v)
	if !ok {
		return "", fmt.Errorf("Role %v is not !GetAtt <role>.Arn: the policies of a role from outside the template cannot be evaluated locally", v)
	}
	if r, ok := t.Resources[id]; !ok || r.Type != typeRole {
		return "", fmt.Errorf("Role names %s, which is not an AWS::IAM::Role of the template", id)
	}
	return id, nil
}

// getAttARN returns X of {"Fn::GetAtt": [X, "Arn"]} (or "X.Arn").
func getAttARN(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	var id, attr string
	switch a := m["Fn::GetAtt"].(type) {
	case []any:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(a, ".")
	}
	return id, id != "" && attr == "Arn"
}

// refTo returns X of {"Ref": X}.
func refTo(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	id, ok := m["Ref"].(string)
	return id, ok
}

// isIntrinsic reports whether v is a single-key map naming an intrinsic function.
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// FunctionPolicies returns the identity-based policies of fn's execution role as CloudFormation
// would attach them, each document resolved with b before it is parsed.
//
// With Role (see RoleLogicalID): the role's Policies (each PolicyName in the Source), its
// ManagedPolicyArns, and the template's AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources
// whose Roles name it and AWS::IAM::RolePolicy resources whose RoleName is {"Ref": role}. A
// managed policy ARN is an error unless it is one of the AWS managed policies the package holds.
//
// Without Role, SAM generates the role <function>Role and attaches: each entry of Policies that is
// a policy document, or an AWS managed policy by name or ARN (a SAM policy template is an error);
// AWSLambdaBasicExecutionRole always; AWSLambdaSQSQueueExecutionRole for an SQS event,
// AWSLambdaDynamoDBExecutionRole for a DynamoDB event, AWSLambdaKinesisExecutionRole for a Kinesis
// event; AWSXrayWriteOnlyAccess with Tracing and AWSLambdaVPCAccessExecutionRole with VpcConfig;
// and the statements that let Lambda deliver to a DeadLetterQueue, to EventInvokeConfig
// destinations and to a stream event's OnFailure destination. Policy resources that name the
// generated role ({"Ref": "<function>Role"}) are attached as for an explicit role.
//
// A permissions boundary, on the function or its role, is an error: it is not evaluated locally.
func FunctionPolicies(t *template.Template, b *template.Bindings, fn template.Function) ([]Policy, error) {
	policies, err := functionPolicies(t, b, fn)
	if err != nil {
		return nil, fmt.Errorf("policies of function %s: %w", fn.LogicalID, err)
	}
	return policies, nil
}

func functionPolicies(t *template.Template, b *template.Bindings, fn template.Function) ([]Policy, error) {
	if v := fn.Properties["PermissionsBoundary"]; v != nil {
		return nil, errors.New("PermissionsBoundary: permissions boundaries are not evaluated locally")
	}
	roleID, err := roleLogicalID(t, fn)
	if err != nil {
		return nil, err
	}
	// The template's managed policies already attached, so that one named both in
	// ManagedPolicyArns and by its own Roles is counted once.
	attached := map[string]bool{}
	var policies []Policy
	if roleID != "" {
		if v := fn.Properties["Policies"]; v != nil {
			return nil, errors.New("both Role and Policies: SAM ignores Policies when Role is set; state them on the role")
		}
		policies, err = explicitRolePolicies(t, b, roleID, attached)
	} else {
		roleID = fn.LogicalID + "Role"
		policies, err = generatedRolePolicies(t, b, fn, roleID, attached)
	}
	if err != nil {
		return nil, err
	}
	more, err := attachedPolicies(t, b, roleID, attached)
	if err != nil {
		return nil, err
	}
	return append(policies, more...), nil
}

// explicitRolePolicies returns the policies an AWS::IAM::Role of the template states itself.
func explicitRolePolicies(t *template.Template, b *template.Bindings, roleID string, attached map[string]bool) ([]Policy, error) {
	r := t.Resources[roleID]
	if v := r.Properties["PermissionsBoundary"]; v != nil {
		return nil, fmt.Errorf("role %s: PermissionsBoundary: permissions boundaries are not evaluated locally", roleID)
	}
	var out []Policy
	if raw := r.Properties["Policies"]; raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("role %s: Policies is not a list", roleID)
		}
		for i, e := range list {
			v, err := b.Resolve(e)
			if err != nil {
				return nil, fmt.Errorf("role %s: resolve Policies[%d]: %w", roleID, i, err)
			}
			if v == nil {
				continue // AWS::NoValue
			}
			m, _ := v.(map[string]any)
			name, _ := m["PolicyName"].(string)
			if name == "" || m["PolicyDocument"] == nil {
				return nil, fmt.Errorf("role %s: Policies[%d] is not a PolicyName with a PolicyDocument", roleID, i)
			}
			p, err := identityPolicy(roleID+" inline policy "+name, m["PolicyDocument"])
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if raw := r.Properties["ManagedPolicyArns"]; raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("role %s: ManagedPolicyArns is not a list", roleID)
		}
		for i, e := range list {
			if id, ok := refTo(e); ok && t.Resources[id].Type == typeManagedPolicy {
				if attached[id] {
					continue
				}
				attached[id] = true
				p, err := templatePolicy(b, roleID, t.Resources[id])
				if err != nil {
					return nil, err
				}
				out = append(out, p)
				continue
			}
			v, err := b.Resolve(e)
			if err != nil {
				return nil, fmt.Errorf("role %s: resolve ManagedPolicyArns[%d]: %w", roleID, i, err)
			}
			if v == nil {
				continue
			}
			arn, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("role %s: ManagedPolicyArns[%d] is not an ARN", roleID, i)
			}
			p, err := awsManagedPolicy(roleID, arn)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", roleID, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// generatedRolePolicies returns what SAM attaches to the role it generates for fn.
func generatedRolePolicies(t *template.Template, b *template.Bindings, fn template.Function, roleID string, attached map[string]bool) ([]Policy, error) {
	var managed []string
	addManaged := func(arn string) {
		if !slices.Contains(managed, arn) {
			managed = append(managed, arn)
		}
	}
	if fn.Properties["DurableConfig"] != nil {
		addManaged(durableExecutionRole)
	} else {
		addManaged(basicExecutionRole)
	}
	if v := fn.Properties["Tracing"]; v != nil {
		mode, err := b.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("resolve Tracing: %w", err)
		}
		if mode != "Disabled" {
			addManaged(xrayWriteOnlyAccess)
		}
	}
	if fn.Properties["VpcConfig"] != nil {
		addManaged(vpcAccessRole)
	}

	var out []Policy
	var entries []any
	switch x := fn.Properties["Policies"].(type) {
	case nil:
	case []any:
		entries = x
	default:
		entries = []any{x} // SAM takes a single policy as a list of one
	}
	for i, e := range entries {
		if id, ok := refTo(e); ok && t.Resources[id].Type == typeManagedPolicy {
			if !attached[id] {
				attached[id] = true
				p, err := templatePolicy(b, roleID, t.Resources[id])
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			continue
		}
		v := e
		if isIntrinsic(e) {
			// Fn::If chooses a document or a managed policy; a Ref or Sub gives an ARN.
			var err error
			if v, err = b.Resolve(e); err != nil {
				return nil, fmt.Errorf("resolve Policies[%d]: %w", i, err)
			}
		}
		switch x := v.(type) {
		case nil:
		case string:
			addManaged(managedPolicyARN(x))
		case map[string]any:
			if _, ok := x["Statement"]; ok {
				doc, err := b.Resolve(x)
				if err != nil {
					return nil, fmt.Errorf("resolve Policies[%d]: %w", i, err)
				}
				p, err := identityPolicy(fmt.Sprintf("%s inline policy %sPolicy%d", roleID, roleID, i), doc)
				if err != nil {
					return nil, err
				}
				out = append(out, p)
				continue
			}
			if len(x) == 1 {
				for name := range x {
					return nil, fmt.Errorf("Policies[%d]: SAM policy template %s is not evaluated locally; state its statements inline", i, name)
				}
			}
			return nil, fmt.Errorf("Policies[%d] is neither a policy document nor a managed policy", i)
		default:
			return nil, fmt.Errorf("Policies[%d] is neither a policy document nor a managed policy", i)
		}
	}

	if v := fn.Properties["DeadLetterQueue"]; v != nil {
		dlq, _ := v.(map[string]any)
		var action string
		switch dlq["Type"] {
		case "SQS":
			action = "sqs:SendMessage"
		case "SNS":
			action = "sns:Publish"
		}
		if action == "" || dlq["TargetArn"] == nil {
			return nil, errors.New("DeadLetterQueue is not a Type (SQS or SNS) with a TargetArn")
		}
		p, err := destinationPolicy(b, roleID+" inline policy DeadLetterQueuePolicy", Version2012,
			statement(action, dlq["TargetArn"]))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}

	if eic, ok := fn.Properties["EventInvokeConfig"].(map[string]any); ok {
		dc, _ := eic["DestinationConfig"].(map[string]any)
		for _, on := range []string{"OnSuccess", "OnFailure"} {
			d, ok := dc[on].(map[string]any)
			if !ok {
				continue
			}
			p, err := deliveryPolicy(b, roleID, fn.LogicalID+"EventInvokeConfig"+on, d, true)
			if err != nil {
				return nil, fmt.Errorf("EventInvokeConfig.DestinationConfig.%s: %w", on, err)
			}
			out = append(out, p...)
		}
	}

	for _, ev := range fn.Events {
		switch ev.Type {
		case "SQS":
			addManaged(sqsExecutionRole)
		case "DynamoDB":
			addManaged(dynamoDBExecutionRole)
		case "Kinesis":
			addManaged(kinesisExecutionRole)
		case "MSK":
			addManaged(mskExecutionRole)
		case "MQ", "SelfManagedKafka", "DocumentDB":
			return nil, fmt.Errorf("event %s: the policies SAM adds for a %s event are not evaluated locally", ev.Name, ev.Type)
		}
		dc, _ := ev.Properties["DestinationConfig"].(map[string]any)
		if onFailure, ok := dc["OnFailure"].(map[string]any); ok {
			p, err := deliveryPolicy(b, roleID, fn.LogicalID+ev.Name, onFailure, false)
			if err != nil {
				return nil, fmt.Errorf("event %s: DestinationConfig.OnFailure: %w", ev.Name, err)
			}
			out = append(out, p...)
		}
	}

	for _, arn := range managed {
		p, err := awsManagedPolicy(roleID, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// statement is an Allow of action on resource, as SAM writes the statements it generates.
func statement(action string, resource any) map[string]any {
	return map[string]any{"Action": action, "Effect": "Allow", "Resource": resource}
}

// deliveryPolicy returns the policy SAM adds so that Lambda may deliver to a destination d
// ({Type, Destination}) named by sourceID: an EventInvokeConfig destination (asynchronous) or a
// stream event's OnFailure. SAM adds none for a stream destination without Type.
func deliveryPolicy(b *template.Bindings, roleID, sourceID string, d map[string]any, asynchronous bool) ([]Policy, error) {
	v, err := b.Resolve(d["Type"])
	if err != nil {
		return nil, fmt.Errorf("resolve Type: %w", err)
	}
	if v == nil && !asynchronous {
		return nil, nil
	}
	typ, _ := v.(string)
	dest := d["Destination"]
	if dest == nil {
		return nil, errors.New("no Destination: the queue or topic SAM would create is not evaluated locally")
	}
	var suffix string
	var statements []any
	switch {
	case typ == "SQS":
		suffix, statements = "SQSPolicy", []any{statement("sqs:SendMessage", dest)}
	case typ == "SNS":
		suffix, statements = "SNSPolicy", []any{statement("sns:publish", dest)}
	case typ == "EventBridge" && asynchronous:
		suffix, statements = "EventBridgePolicy", []any{statement("events:PutEvents", dest)}
	case typ == "Lambda" && asynchronous:
		suffix, statements = "LambdaPolicy", []any{statement("lambda:InvokeFunction", dest)}
	case typ == "S3Bucket" && asynchronous, typ == "S3" && !asynchronous:
		suffix, statements = "S3Policy", []any{
			statement("s3:PutObject", map[string]any{"Fn::Join": []any{"/", []any{dest, "*"}}}),
			statement("s3:ListBucket", dest),
		}
	case typ == "Kafka" && !asynchronous:
		return nil, nil
	default:
		return nil, fmt.Errorf("Type %v is not a destination type SAM knows", v)
	}
	p, err := destinationPolicy(b, roleID+" inline policy "+sourceID+suffix, "", statements...)
	if err != nil {
		return nil, err
	}
	return []Policy{p}, nil
}

// destinationPolicy resolves and parses a policy SAM generates from statements.
func destinationPolicy(b *template.Bindings, source, version string, statements ...any) (Policy, error) {
	doc := map[string]any{"Statement": statements}
	if version != "" {
		doc["Version"] = version
	}
	resolved, err := b.Resolve(doc)
	if err != nil {
		return Policy{}, fmt.Errorf("resolve %s: %w", source, err)
	}
	return identityPolicy(source, resolved)
}

// attachedPolicies returns the template's policy resources attached to roleID from outside it.
func attachedPolicies(t *template.Template, b *template.Bindings, roleID string, attached map[string]bool) ([]Policy, error) {
	var out []Policy
	var resources []template.Resource
	for _, typ := range []string{typePolicy, typeManagedPolicy} {
		for _, r := range t.OfType(typ) {
			if !attached[r.LogicalID] && namesRole(r.Properties["Roles"], roleID) {
				resources = append(resources, r)
			}
		}
	}
	for _, r := range t.OfType(typeRolePolicy) {
		if id, ok := refTo(r.Properties["RoleName"]); ok && id == roleID {
			resources = append(resources, r)
		}
	}
	for _, r := range resources {
		ok, err := exists(b, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		attached[r.LogicalID] = true
		p, err := templatePolicy(b, roleID, r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// namesRole reports whether a Roles list holds {"Ref": roleID}.
func namesRole(roles any, roleID string) bool {
	list, _ := roles.([]any)
	for _, e := range list {
		if id, ok := refTo(e); ok && id == roleID {
			return true
		}
	}
	return false
}

// exists reports whether r is created: its Condition, if any, holds.
func exists(b *template.Bindings, r template.Resource) (bool, error) {
	if r.Condition == "" {
		return true, nil
	}
	v, err := b.Resolve(map[string]any{"Fn::If": []any{r.Condition, true, false}})
	if err != nil {
		return false, fmt.Errorf("resource %s: condition %s: %w", r.LogicalID, r.Condition, err)
	}
	return v == true, nil
}

// templatePolicy reads the PolicyDocument of an AWS::IAM::Policy, ManagedPolicy or RolePolicy
// attached to roleID.
func templatePolicy(b *template.Bindings, roleID string, r template.Resource) (Policy, error) {
	source := roleID + " policy " + r.LogicalID
	doc, err := b.Resolve(r.Properties["PolicyDocument"])
	if err != nil {
		return Policy{}, fmt.Errorf("resolve %s: %w", source, err)
	}
	return identityPolicy(source, doc)
}

// identityPolicy parses a resolved identity-based policy document, which IAM refuses with a
// Principal.
func identityPolicy(source string, doc any) (Policy, error) {
	p, err := ParsePolicy(source, doc)
	if err != nil {
		return Policy{}, err
	}
	for i, s := range p.Statements {
		if len(s.Principals) > 0 {
			return Policy{}, fmt.Errorf("policy %s: statement %d: an identity-based policy takes no Principal", source, i)
		}
	}
	return p, nil
}

// ResourcePolicies reads the template's resource-based policies, each resolved with b, keyed by
// what it governs: AWS::S3::BucketPolicy by bucket name (Bucket), AWS::SQS::QueuePolicy by queue
// URL (each of Queues), AWS::SNS::TopicPolicy by topic ARN (each of Topics). Every statement must
// name a Principal. Two policies for one resource are an error: on AWS one replaces the other.
func ResourcePolicies(t *template.Template, b *template.Bindings) (map[string]Policy, error) {
	out := map[string]Policy{}
	owner := map[string]string{}
	for _, kind := range []struct{ typ, property string }{
		{typeBucketPolicy, "Bucket"},
		{typeQueuePolicy, "Queues"},
		{typeTopicPolicy, "Topics"},
	} {
		for _, r := range t.OfType(kind.typ) {
			p, targets, err := resourcePolicy(b, r, kind.property)
			if err != nil {
				return nil, fmt.Errorf("resource policy %s: %w", r.LogicalID, err)
			}
			for _, target := range targets {
				if prev, dup := owner[target]; dup {
					return nil, fmt.Errorf("resource policies %s and %s both govern %s: on AWS one would replace the other", prev, r.LogicalID, target)
				}
				owner[target] = r.LogicalID
				out[target] = p
			}
		}
	}
	return out, nil
}

// resourcePolicy reads one bucket, queue or topic policy and what it governs.
func resourcePolicy(b *template.Bindings, r template.Resource, property string) (Policy, []string, error) {
	ok, err := exists(b, r)
	if err != nil || !ok {
		return Policy{}, nil, err
	}
	doc, err := b.Resolve(r.Properties["PolicyDocument"])
	if err != nil {
		return Policy{}, nil, fmt.Errorf("resolve PolicyDocument: %w", err)
	}
	p, err := ParsePolicy(r.LogicalID, doc)
	if err != nil {
		return Policy{}, nil, err
	}
	for i, s := range p.Statements {
		if len(s.Principals) == 0 {
			return Policy{}, nil, fmt.Errorf("statement %d has no Principal, which a resource-based policy needs", i)
		}
	}
	v, err := b.Resolve(r.Properties[property])
	if err != nil {
		return Policy{}, nil, fmt.Errorf("resolve %s: %w", property, err)
	}
	targets, err := stringList(v)
	if err != nil {
		return Policy{}, nil, fmt.Errorf("%s: %w", property, err)
	}
	return p, targets, nil
}
