package inittime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// StackName is the stack name resource names are made from, the local runner's default.
const StackName = "local"

// Bindings returns bindings for t with params set over the parameters' defaults and every
// resource given the name, ARN and URL it would have in a stack named StackName (in its nested
// stack, for a resource of a nested application), without provisioning anything: enough for a
// function to read its configuration and build its clients, which is all a cold start does with
// them.
func Bindings(t *template.Template, params map[string]string) (*template.Bindings, error) {
	b := template.NewBindings(t, StackName, Region)
	for name, value := range params {
		if err := b.SetParameter(name, value); err != nil {
			return nil, err
		}
	}
	for _, r := range t.Resources {
		setLocalValues(b, r)
	}
	return b, nil
}

// setLocalValues records what Ref and the usual Fn::GetAtt attributes of r resolve to, in the
// shapes AWS gives them. An attribute not set here fails to resolve, naming the resource.
func setLocalValues(b *template.Bindings, r template.Resource) {
	name := literal(r.Properties, nameProperty(r.Type), b.StackNameOf(r.Stack)+"-"+r.LogicalID)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", template.Partition, service, Region, template.AccountID, resource)
	}
	switch r.Type {
	case "AWS::DynamoDB::Table":
		b.SetRef(r.LogicalID, name)
		b.SetAtt(r.LogicalID, "Arn", arn("dynamodb", "table/"+name))
		b.SetAtt(r.LogicalID, "StreamArn", arn("dynamodb", "table/"+name+"/stream/2026-01-01T00:00:00.000"))
	case "AWS::SQS::Queue":
		if fifo, _ := r.Properties["FifoQueue"].(bool); fifo && !strings.HasSuffix(name, ".fifo") {
			name += ".fifo"
		}
		url := fmt.Sprintf("https://sqs.%s.%s/%s/%s", Region, template.URLSuffix, template.AccountID, name)
		b.SetRef(r.LogicalID, url)
		b.SetAtt(r.LogicalID, "Arn", arn("sqs", name))
		b.SetAtt(r.LogicalID, "QueueName", name)
		b.SetAtt(r.LogicalID, "QueueUrl", url)
	case "AWS::SNS::Topic":
		b.SetRef(r.LogicalID, arn("sns", name))
		b.SetAtt(r.LogicalID, "TopicArn", arn("sns", name))
		b.SetAtt(r.LogicalID, "TopicName", name)
	case "AWS::S3::Bucket":
		name = strings.ToLower(name) // bucket names are lower case, unlike logical IDs
		b.SetRef(r.LogicalID, name)
		b.SetAtt(r.LogicalID, "Arn", "arn:"+template.Partition+":s3:::"+name)
		b.SetAtt(r.LogicalID, "DomainName", name+".s3."+template.URLSuffix)
	case template.TypeFunction, "AWS::Lambda::Function":
		b.SetRef(r.LogicalID, name)
		b.SetAtt(r.LogicalID, "Arn", arn("lambda", "function:"+name))
	default:
		b.SetRef(r.LogicalID, name)
		b.SetAtt(r.LogicalID, "Arn", arn(strings.ToLower(strings.Split(r.Type, "::")[1]), r.LogicalID))
	}
}

// nameProperty is the property that names a resource of type typ, when the template sets it.
func nameProperty(typ string) string {
	switch typ {
	case "AWS::DynamoDB::Table":
		return "TableName"
	case "AWS::SQS::Queue":
		return "QueueName"
	case "AWS::SNS::Topic":
		return "TopicName"
	case "AWS::S3::Bucket":
		return "BucketName"
	case template.TypeFunction, "AWS::Lambda::Function":
		return "FunctionName"
	}
	return ""
}

// literal returns props[key] when it is a plain string, else def (absent, or an intrinsic such as
// !Sub "${AWS::StackName}-jobs", which would need resolving before its resource is known).
func literal(props map[string]template.Value, key, def string) string {
	if s, ok := props[key].(string); ok && key != "" && s != "" {
		return s
	}
	return def
}

// Environment resolves fn's template Environment with b. Variables that resolve to
// AWS::NoValue are left out, as CloudFormation leaves them out.
func Environment(b *template.Bindings, fn template.Function) (map[string]string, error) {
	env := make(map[string]string, len(fn.Environment))
	for name, v := range fn.Environment {
		resolved, err := b.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("function %s: environment variable %s: %w", fn.LogicalID, name, err)
		}
		if resolved == nil {
			continue
		}
		s, err := b.ResolveString(resolved)
		if err != nil {
			return nil, fmt.Errorf("function %s: environment variable %s: %w", fn.LogicalID, name, err)
		}
		env[name] = s
	}
	return env, nil
}

// LocalParameters reads infra/local/parameters.json under root, the repository: the parameter
// overrides of every local run (`make run`, the end-to-end tests), with ${RepoRoot} replaced by
// root as the runner does.
func LocalParameters(root string) (map[string]string, error) {
	path := filepath.Join(root, "infra", "local", "parameters.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read local parameters: %w", err)
	}
	var params map[string]string
	if err := json.Unmarshal(data, &params); err != nil {
		return nil, fmt.Errorf("read local parameters %s: want a JSON object of strings: %w", path, err)
	}
	for name, value := range params {
		params[name] = strings.ReplaceAll(value, "${RepoRoot}", root)
	}
	return params, nil
}
