package provision

import (
	"context"
	"fmt"

	"github.com/go-serverless/reference/infra/local/template"
)

// Resources with no stand-in whose names and ARNs the runner still needs: IAM policies refer to
// them (a role's logs statement names its log group, an S3 statement a KMS key), and the local
// IAM enforcement resolves those policies exactly as CloudFormation would. Nothing is created.

// roleProperties are the AWS::IAM::Role properties that name it.
type roleProperties struct {
	RoleName string
	Path     string
}

func (p *provisioner) role(_ context.Context, r template.Resource) error {
	var props roleProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.RoleName
	if name == "" {
		name = p.generatedName(r, maxRoleName)
	}
	path := props.Path
	if path == "" {
		path = "/"
	}
	p.out.RoleNames[r.LogicalID] = name
	p.bindings.SetRef(r.LogicalID, name)
	// IAM is global: its ARNs name no region.
	p.bindings.SetAtt(r.LogicalID, "Arn", fmt.Sprintf("arn:%s:iam::%s:role%s%s", template.Partition, template.AccountID, path, name))
	p.bindings.SetAtt(r.LogicalID, "RoleId", "AROA"+r.LogicalID)
	return nil
}

// logGroupProperties are the AWS::Logs::LogGroup properties that name it.
type logGroupProperties struct {
	LogGroupName string
}

func (p *provisioner) logGroup(_ context.Context, r template.Resource) error {
	var props logGroupProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.LogGroupName
	if name == "" {
		name = p.generatedName(r, maxLogGroupName)
	}
	p.bindings.SetRef(r.LogicalID, name)
	// CloudFormation's Arn of a log group ends in ":*", which covers its log streams.
	p.bindings.SetAtt(r.LogicalID, "Arn", p.arn("logs", "log-group:"+name+":*"))
	return nil
}

func (p *provisioner) kmsKey(_ context.Context, r template.Resource) error {
	// A key's id is a UUID on AWS; the logical ID keeps local ARNs readable and stable.
	id := "local-" + r.LogicalID
	p.bindings.SetRef(r.LogicalID, id)
	p.bindings.SetAtt(r.LogicalID, "KeyId", id)
	p.bindings.SetAtt(r.LogicalID, "Arn", p.arn("kms", "key/"+id))
	return nil
}
