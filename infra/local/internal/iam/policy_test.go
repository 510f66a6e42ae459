package iam

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decode reads a JSON document as ParsePolicy receives a resolved template value.
func decode(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

// mustPolicy parses a JSON policy document, failing the test if ParsePolicy refuses it.
func mustPolicy(t *testing.T, doc string) Policy {
	t.Helper()
	p, err := ParsePolicy("test", decode(t, doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func TestParsePolicyForms(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Policy
	}{
		{
			name: "statement as one mapping, strings, no Version",
			doc:  `{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}`,
			want: Policy{Source: "test", Version: Version2008, Statements: []Statement{
				{Effect: EffectAllow, Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::b/*"}},
			}},
		},
		{
			name: "statement list, lists, Not elements, Sid",
			doc: `{"Version": "2012-10-17", "Id": "x", "Statement": [
				{"Sid": "One", "Effect": "Deny", "NotAction": ["s3:GetObject", "s3:ListBucket"], "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
				{"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["*"]}]}`,
			want: Policy{Source: "test", Version: Version2012, Statements: []Statement{
				{Sid: "One", Effect: EffectDeny, NotActions: []string{"s3:GetObject", "s3:ListBucket"},
					NotResources: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}},
				{Effect: EffectAllow, Actions: []string{"dynamodb:*"}, Resources: []string{"*"}},
			}},
		},
		{
			name: "condition values: bool, integer, decimal, list, string",
			doc: `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
				"Bool": {"aws:SecureTransport": false},
				"NumericLessThanEquals": {"s3:max-keys": 10, "s3:signatureAge": 1.5},
				"StringLike": {"s3:prefix": ["home/", "tmp/*"], "s3:delimiter": "/"}}}}`,
			want: Policy{Source: "test", Version: Version2012, Statements: []Statement{{
				Effect: EffectAllow, Actions: []string{"*"}, Resources: []string{"*"},
				Conditions: []Condition{
					{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
					{Operator: "NumericLessThanEquals", Key: "s3:max-keys", Values: []string{"10"}},
					{Operator: "NumericLessThanEquals", Key: "s3:signatureAge", Values: []string{"1.5"}},
					{Operator: "StringLike", Key: "s3:delimiter", Values: []string{"/"}},
					{Operator: "StringLike", Key: "s3:prefix", Values: []string{"home/", "tmp/*"}},
				},
			}}},
		},
		{
			name: "principals: *, account ID, ARN, AWS *, service",
			doc: `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
				{"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:iam::000000000000:role/r", "*"],
					"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "*"}]}`,
			want: Policy{Source: "test", Version: Version2012, Statements: []Statement{
				{Effect: EffectDeny, Principals: []string{"*"}, Actions: []string{"s3:*"}, Resources: []string{"*"}},
				{Effect: EffectAllow, Principals: []string{"arn:aws:iam::123456789012:root",
					"arn:aws:iam::000000000000:role/r", "*", "service:sns.amazonaws.com"},
					Actions: []string{"sqs:SendMessage"}, Resources: []string{"*"}},
			}},
		},
		{
			name: "policy variables in the 2008 language are literal text, so any is accepted",
			doc:  `{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}"}}`,
			want: Policy{Source: "test", Version: Version2008, Statements: []Statement{
				{Effect: EffectAllow, Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::b/${aws:username}"}},
			}},
		},
		{
			name: "known policy variables, escapes and defaults",
			doc: `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
				"Resource": "arn:aws:s3:::b/${aws:SourceAccount}/${*}${?}${$}/${aws:SourceAccount, 'shared'}"}}`,
			want: Policy{Source: "test", Version: Version2012, Statements: []Statement{
				{Effect: EffectAllow, Actions: []string{"s3:GetObject"},
					Resources: []string{"arn:aws:s3:::b/${aws:SourceAccount}/${*}${?}${$}/${aws:SourceAccount, 'shared'}"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePolicy("test", decode(t, tt.doc))
			if err != nil {
				t.Fatalf("ParsePolicy: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParsePolicyJSONString(t *testing.T) {
	got, err := ParsePolicy("test", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}`)
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	if len(got.Statements) != 1 || got.Statements[0].Actions[0] != "sqs:SendMessage" {
		t.Errorf("got %+v, want one statement allowing sqs:SendMessage", got)
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	// stmt wraps statement elements in a valid document.
	stmt := func(elements string) string {
		return `{"Version": "2012-10-17", "Statement": [{` + elements + `}]}`
	}
	allowAll := `"Effect": "Allow", "Action": "*", "Resource": "*"`
	cond := func(c string) string { return stmt(allowAll + `, "Condition": ` + c) }
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"not a mapping", `["Statement"]`, "not a mapping"},
		{"unknown version", `{"Version": "2012-10-18", "Statement": {` + allowAll + `}}`, "Version 2012-10-18"},
		{"version not a string", `{"Version": 2012, "Statement": {` + allowAll + `}}`, "Version 2012"},
		{"unknown document element", `{"Version": "2012-10-17", "Statements": [{` + allowAll + `}]}`, `unknown policy element "Statements"`},
		{"no statement", `{"Version": "2012-10-17"}`, "no Statement"},
		{"empty statement list", `{"Version": "2012-10-17", "Statement": []}`, "Statement is empty"},
		{"statement not a mapping", `{"Version": "2012-10-17", "Statement": ["x"]}`, "statement 0: not a mapping"},
		{"no effect", stmt(`"Action": "*", "Resource": "*"`), "no Effect"},
		{"effect in lower case", stmt(`"Effect": "allow", "Action": "*", "Resource": "*"`), `Effect "allow"`},
		{"other effect", stmt(`"Effect": "Permit", "Action": "*", "Resource": "*"`), `Effect "Permit"`},
		{"action and not action", stmt(`"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"`), "both Action and NotAction"},
		{"neither action", stmt(`"Effect": "Allow", "Resource": "*"`), "neither Action nor NotAction"},
		{"resource and not resource", stmt(`"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"`), "both Resource and NotResource"},
		{"neither resource", stmt(`"Effect": "Allow", "Action": "*"`), "neither Resource nor NotResource"},
		{"unknown statement element", stmt(allowAll + `, "Actions": "s3:*"`), `unknown statement element "Actions"`},
		{"lower-case element", stmt(`"Effect": "Allow", "action": "*", "Resource": "*"`), `unknown statement element "action"`},
		{"not principal", stmt(allowAll + `, "NotPrincipal": {"AWS": "123456789012"}`), "NotPrincipal"},
		{"action without service", stmt(`"Effect": "Allow", "Action": "GetObject", "Resource": "*"`), `action "GetObject"`},
		{"wildcard in service prefix", stmt(`"Effect": "Allow", "Action": "s3*:GetObject", "Resource": "*"`), "service prefix"},
		{"action not a string", stmt(`"Effect": "Allow", "Action": [1], "Resource": "*"`), "is not a string"},
		{"empty action list", stmt(`"Effect": "Allow", "Action": [], "Resource": "*"`), "empty list"},
		{"resource not an ARN", stmt(`"Effect": "Allow", "Action": "*", "Resource": "my-bucket"`), `resource "my-bucket"`},
		{"resource ARN too short", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3"`), `resource "arn:aws:s3"`},
		{"wildcard in resource service", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:us-east-1:000000000000:x"`), "service part"},
		{"unknown policy variable", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:username}/*"`), "unknown policy variable ${aws:username}"},
		{"policy variable before the resource part", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:sqs:us-east-1:${aws:SourceAccount}:q"`), "only in the resource part"},
		{"unterminated policy variable", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:SourceArn"`), "unterminated policy variable"},
		{"multivalued key as variable", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${dynamodb:LeadingKeys}"`), "multivalued"},
		{"malformed default", stmt(`"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:SourceAccount, shared}"`), "default value"},
		{"unknown operator", cond(`{"StringEqualz": {"s3:prefix": "a"}}`), `condition operator "StringEqualz"`},
		{"operator not evaluated locally", cond(`{"DateLessThan": {"s3:prefix": "2020-01-01"}}`), `condition operator "DateLessThan"`},
		{"unknown set qualifier", cond(`{"ForSomeValues:StringEquals": {"s3:prefix": "a"}}`), "set qualifiers"},
		{"Null with IfExists", cond(`{"NullIfExists": {"s3:prefix": "true"}}`), "Null takes neither"},
		{"Null with a qualifier", cond(`{"ForAnyValue:Null": {"s3:prefix": "true"}}`), "Null takes neither"},
		{"unknown condition key", cond(`{"StringEquals": {"aws:Referer": "x"}}`), `condition key "aws:Referer"`},
		{"unknown key in a known service", cond(`{"StringEquals": {"s3:VersionId": "x"}}`), `condition key "s3:VersionId"`},
		{"tag key without a tag name", cond(`{"StringEquals": {"s3:ExistingObjectTag/": "x"}}`), `condition key "s3:ExistingObjectTag/"`},
		{"Bool value not true or false", cond(`{"Bool": {"aws:SecureTransport": "yes"}}`), `value "yes"`},
		{"Null value not true or false", cond(`{"Null": {"s3:prefix": "absent"}}`), `value "absent"`},
		{"numeric value not a number", cond(`{"NumericLessThan": {"s3:max-keys": "ten"}}`), `value "ten" is not a number`},
		{"no condition values", cond(`{"StringEquals": {"s3:prefix": []}}`), "no values"},
		{"condition value a mapping", cond(`{"StringEquals": {"s3:prefix": {"a": "b"}}}`), "is not a string, bool or number"},
		{"operator without keys", cond(`{"StringEquals": "s3:prefix"}`), "not a mapping of condition keys"},
		{"unknown variable in a condition value", cond(`{"StringLike": {"s3:prefix": "home/${aws:username}/*"}}`), "unknown policy variable"},
		{"principal neither * nor mapping", stmt(allowAll + `, "Principal": "bob"`), `"bob"`},
		{"empty principal mapping", stmt(allowAll + `, "Principal": {}`), "mapping of principals"},
		{"federated principal", stmt(allowAll + `, "Principal": {"Federated": "cognito-identity.amazonaws.com"}`), "Federated principals"},
		{"wildcard in principal ARN", stmt(allowAll + `, "Principal": {"AWS": "arn:aws:iam::000000000000:role/*"}`), "cannot hold wildcards"},
		{"principal neither account nor ARN", stmt(allowAll + `, "Principal": {"AWS": "bob"}`), `AWS principal "bob"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy("test", decode(t, tt.doc))
			if err == nil {
				t.Fatalf("ParsePolicy(%s): got no error, want one containing %q", tt.doc, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePolicy: got error %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "policy test: ") {
				t.Errorf("ParsePolicy: got error %q, want it to name the policy's source", err)
			}
		})
	}
}

func TestKnownConditionKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"aws:SecureTransport", true},
		{"aws:securetransport", true},
		{"AWS:SECURETRANSPORT", true},
		{"aws:SourceArn", true},
		{"aws:SourceAccount", true},
		{"aws:PrincipalArn", true},
		{"aws:RequestedRegion", true},
		{"s3:prefix", true},
		{"s3:delimiter", true},
		{"s3:max-keys", true},
		{"s3:x-amz-server-side-encryption", true},
		{"s3:x-amz-server-side-encryption-aws-kms-key-id", true},
		{"s3:x-amz-content-sha256", true},
		{"s3:signatureAge", true},
		{"s3:authType", true},
		{"s3:signatureversion", true},
		{"s3:ExistingObjectTag/upload", true},
		{"s3:RequestObjectTag/upload", true},
		{"dynamodb:LeadingKeys", true},
		{"dynamodb:Attributes", true},
		{"dynamodb:Select", true},
		{"dynamodb:ReturnValues", true},
		{"kms:ViaService", true},
		{"kms:CallerAccount", true},
		{"kms:EncryptionContext:aws:s3:arn", true},
		{"lambda:FunctionArn", true},
		{"s3:ExistingObjectTag/", false},
		{"kms:EncryptionContext:", false},
		{"aws:username", false},
		{"aws:SourceIp", false},
		{"sqs:QueueUrl", false},
		{"SecureTransport", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := KnownConditionKey(tt.key); got != tt.want {
			t.Errorf("KnownConditionKey(%q): got %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestPolicyActions(t *testing.T) {
	p := mustPolicy(t, `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": "*"},
		{"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
		{"Effect": "Allow", "Action": ["dynamodb:PutItem", "sqs:SendMessage"], "Resource": "*"}]}`)
	got := p.Actions()
	want := []string{"dynamodb:GetItem", "dynamodb:PutItem", "sqs:SendMessage"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Actions: got %v, want %v", got, want)
	}
}
