package provision

import (
	"context"
	"fmt"

	"github.com/go-serverless/reference/infra/local/template"
)

// Defaults for resources the runner serves itself rather than a stand-in. The runner sets the
// real values in the Bindings before Provision (its HTTP API's endpoint, its local JWT
// issuer's URL); these fill whatever it left unset, so that templates still resolve.
const (
	// DefaultHTTPAPIID is what Ref of an AWS::Serverless::HttpApi resolves to.
	DefaultHTTPAPIID = "local"
	// DefaultUserPoolID is what Ref of an AWS::Cognito::UserPool resolves to.
	DefaultUserPoolID = "local-user-pool"
	// DefaultUserPoolClientID is what Ref of an AWS::Cognito::UserPoolClient resolves to.
	DefaultUserPoolClientID = "local-client"
)

// implicitHTTPAPI is the logical ID SAM gives the HTTP API it creates for HttpApi events
// that name no ApiId.
const implicitHTTPAPI = "ServerlessHttpApi"

// functionProperties are the AWS::Serverless::Function properties provisioning reads; the
// rest are the lambda pool's, through template.Functions.
type functionProperties struct {
	FunctionName string
}

func (p *provisioner) function(_ context.Context, r template.Resource) error {
	var props functionProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.FunctionName
	if name == "" {
		name = p.generatedName(r, maxFunctionName)
	}
	p.out.FunctionNames[r.LogicalID] = name
	p.bindings.SetRef(r.LogicalID, name)
	p.bindings.SetAtt(r.LogicalID, "Arn", p.arn("lambda", "function:"+name))
	if role, ok := p.t.WithGlobals(r)["Role"]; !ok || role == nil {
		p.generatedRole(r)
	}
	return nil
}

// generatedRole names the execution role SAM generates for function r, which states no Role:
// the resource <function>Role, named as CloudFormation names a role the template names not.
func (p *provisioner) generatedRole(r template.Resource) {
	role := template.Resource{LogicalID: r.LogicalID + "Role", Type: typeRole, Stack: r.Stack}
	if _, declared := p.t.Resources[role.LogicalID]; declared {
		return
	}
	name := p.generatedName(role, maxRoleName)
	p.out.RoleNames[role.LogicalID] = name
	p.bindings.SetRef(role.LogicalID, name)
	p.bindings.SetAtt(role.LogicalID, "Arn", fmt.Sprintf("arn:%s:iam::%s:role/%s", template.Partition, template.AccountID, name))
}

// application binds a nested application flattened into the template by template.LoadApp: its
// resources are the template's own, provisioned as they are, so nothing is left to create. Ref of
// it is its nested stack's ID, as on AWS.
func (p *provisioner) application(_ context.Context, r template.Resource) error {
	p.bindings.SetRef(r.LogicalID, p.bindings.StackID(appPath(r)))
	return nil
}

// appPath is the path of the nested application r declares (template.App.Path).
func appPath(r template.Resource) string {
	if r.Stack == "" {
		return r.LogicalID
	}
	return r.Stack + "." + r.LogicalID
}

func (p *provisioner) httpAPI(_ context.Context, r template.Resource) error {
	p.defaultRef(r.LogicalID, DefaultHTTPAPIID)
	return nil
}

func (p *provisioner) userPool(_ context.Context, r template.Resource) error {
	id := p.defaultRef(r.LogicalID, DefaultUserPoolID)
	provider := "cognito-idp." + p.bindings.Region() + "." + template.URLSuffix + "/" + id
	p.defaultAtt(r.LogicalID, "Arn", p.arn("cognito-idp", "userpool/"+id))
	p.defaultAtt(r.LogicalID, "UserPoolId", id)
	p.defaultAtt(r.LogicalID, "ProviderName", provider)
	p.defaultAtt(r.LogicalID, "ProviderURL", "https://"+provider)
	return nil
}

func (p *provisioner) userPoolClient(_ context.Context, r template.Resource) error {
	id := p.defaultRef(r.LogicalID, DefaultUserPoolClientID)
	p.defaultAtt(r.LogicalID, "ClientId", id)
	return nil
}

// defaultRef sets Ref logicalID to value unless the runner set it, and returns the Ref's value.
func (p *provisioner) defaultRef(logicalID, value string) string {
	if !p.bindings.HasRef(logicalID) {
		p.bindings.SetRef(logicalID, value)
		return value
	}
	v, err := p.bindings.ResolveString(map[string]template.Value{"Ref": logicalID})
	if err != nil {
		// HasRef said it is set, so it resolves; keep the default if that ever changes.
		return value
	}
	return v
}

// defaultAtt sets Fn::GetAtt [logicalID, attr] to value unless the runner set it.
func (p *provisioner) defaultAtt(logicalID, attr, value string) {
	if !p.bindings.HasAtt(logicalID, attr) {
		p.bindings.SetAtt(logicalID, attr, value)
	}
}

// bindImplicitHTTPAPI binds SAM's implicit ServerlessHttpApi when a function's HttpApi event
// names no ApiId and the template does not declare that logical ID itself, so that outputs
// such as !Sub "https://${ServerlessHttpApi}.execute-api..." resolve.
func bindImplicitHTTPAPI(t *template.Template, b *template.Bindings) {
	if _, declared := t.Resources[implicitHTTPAPI]; declared || b.HasRef(implicitHTTPAPI) {
		return
	}
	for _, r := range t.OfType(typeFunction) {
		events, _ := r.Properties["Events"].(map[string]template.Value)
		for _, e := range events {
			em, _ := e.(map[string]template.Value)
			if em["Type"] != "HttpApi" {
				continue
			}
			props, _ := em["Properties"].(map[string]template.Value)
			if _, named := props["ApiId"]; !named {
				b.SetRef(implicitHTTPAPI, DefaultHTTPAPIID)
				return
			}
		}
	}
}
