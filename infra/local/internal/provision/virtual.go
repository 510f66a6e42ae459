package provision

import (
	"context"

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
		name = p.generatedName(r.LogicalID)
	}
	p.out.FunctionNames[r.LogicalID] = name
	p.bindings.SetRef(r.LogicalID, name)
	p.bindings.SetAtt(r.LogicalID, "Arn", p.arn("lambda", "function:"+name))
	return nil
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
