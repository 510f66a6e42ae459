package template

import (
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// iamTemplate declares what the statements below refer to.
const iamTemplate = `
Parameters:
  ApiKeyName: {Type: String, Default: /test/api-key}
Resources:
  Bucket: {Type: "AWS::S3::Bucket"}
  Table: {Type: "AWS::DynamoDB::Table"}
  Topic: {Type: "AWS::SNS::Topic"}
  Queue: {Type: "AWS::SQS::Queue"}
  QueuePolicy: {Type: "AWS::SQS::QueuePolicy"}
  Key: {Type: "AWS::KMS::Key"}
  R:
    Type: Test::Thing
    Properties:
      S: `

// parseStatement parses expr, one statement, into the template iamTemplate declares.
func parseStatement(t *testing.T, expr string) (*template.Template, statement) {
	t.Helper()
	tmpl := parse(t, iamTemplate+expr+"\n")
	return tmpl, statement{where: "S", fields: asMap(tmpl.Resources["R"].Properties["S"])}
}

// problemsWant checks problems against want: none when want is "", else one that mentions want.
func problemsWant(t *testing.T, expr string, problems []string, want string) {
	t.Helper()
	switch {
	case want == "" && len(problems) != 0:
		t.Errorf("%s: got %q, want no problems", expr, problems)
	case want != "" && !strings.Contains(strings.Join(problems, "\n"), want):
		t.Errorf("%s: got %q, want one that mentions %q", expr, problems, want)
	}
}

func TestStatementProblemsExceptions(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{`{Effect: Allow, Action: s3:GetObject, Resource: !Sub "${Bucket.Arn}/uploads/*"}`, ""},
		{`{Effect: Allow, Action: s3:GetObject, Resource: !Sub "${Bucket.Arn}/*"}`, "contains a wildcard"},
		{`{Effect: Allow, Action: ssm:GetParameter, Resource: !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ApiKeyName}"}`, ""},
		{`{Effect: Allow, Action: dynamodb:ListStreams, Resource: !Sub "${Table.Arn}/stream/*"}`, ""},
		{`{Effect: Allow, Action: [dynamodb:ListStreams, dynamodb:GetRecords], Resource: !Sub "${Table.Arn}/stream/*"}`, "contains a wildcard"},
		{`{Effect: Allow, Action: dynamodb:ListStreams, Resource: !Sub "${Queue.Arn}/stream/*"}`, "contains a wildcard"},
		{`{Effect: Allow, Action: "dynamodb:Get?tem", Resource: !GetAtt Table.Arn}`, "is a wildcard"},
		{`{Effect: Deny, Action: "*", Resource: "*"}`, ""},
		{`{Effect: Deny, NotAction: s3:GetObject, NotResource: !GetAtt Bucket.Arn}`, ""},
	}
	for _, tt := range tests {
		tmpl, s := parseStatement(t, tt.expr)
		problemsWant(t, tt.expr, statementProblems(tmpl, "R", s), tt.want)
	}
}

func TestResourceStatementProblems(t *testing.T) {
	tests := []struct {
		owner, expr, want string
	}{
		{"Key", `{Effect: Allow, Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, Action: "kms:*", Resource: "*"}`, ""},
		{"Key", `{Effect: Allow, Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, Action: kms:Decrypt, Resource: "*"}`, "allows Principal"},
		{"QueuePolicy", `{Effect: Allow, Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, Action: "kms:*", Resource: "*"}`, "allows Principal"},
		{"Key", `{Effect: Allow, Principal: {Service: logs.amazonaws.com}, Action: kms:Encrypt, Resource: "*", Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}}`, ""},
		{"Key", `{Effect: Allow, Principal: {Service: logs.amazonaws.com}, Action: kms:Encrypt, Resource: !GetAtt Key.Arn, Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}}`, `the Resource is "*"`},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn, Condition: {ArnEquals: {aws:SourceArn: !Ref Topic}}}`, ""},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: [sns.amazonaws.com]}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn, Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}}`, ""},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}`, "without an aws:SourceArn"},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn, Condition: {ArnNotEquals: {aws:SourceArn: !Ref Topic}}}`, "without an aws:SourceArn"},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn, Condition: {ArnLike: {aws:SourceArn: !Sub "arn:${AWS::Partition}:sns:*"}}}`, "without an aws:SourceArn"},
		{"QueuePolicy", `{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: "sqs:*", Resource: !GetAtt Queue.Arn, Condition: {ArnEquals: {aws:SourceArn: !Ref Topic}}}`, "is a wildcard"},
		{"QueuePolicy", `{Effect: Allow, Principal: {AWS: "*"}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn, Condition: {ArnEquals: {aws:SourceArn: !Ref Topic}}}`, "allows Principal"},
		{"QueuePolicy", `{Effect: Allow, NotPrincipal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}`, "uses NotPrincipal"},
		{"QueuePolicy", `{Effect: Deny, Principal: "*", Action: "sqs:*", Resource: !GetAtt Queue.Arn, Condition: {Bool: {aws:SecureTransport: false}}}`, ""},
	}
	for _, tt := range tests {
		tmpl, s := parseStatement(t, tt.expr)
		d := document{owner: tt.owner, where: "PolicyDocument"}
		problemsWant(t, tt.owner+" "+tt.expr, resourceStatementProblems(tmpl, d, s), tt.want)
	}
}

func TestDeniesPlainHTTP(t *testing.T) {
	arns := []string{"!GetAtt Bucket.Arn", `!Sub "${Bucket.Arn}/*"`}
	tests := []struct {
		expr string
		want bool
	}{
		{`{Effect: Deny, Principal: "*", Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: false}}}`, true},
		{`{Effect: Deny, Principal: {AWS: "*"}, Action: "*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: "false"}}}`, true},
		{`{Effect: Allow, Principal: "*", Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: false}}}`, false},
		{`{Effect: Deny, Principal: {Service: s3.amazonaws.com}, Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: false}}}`, false},
		{`{Effect: Deny, Principal: "*", Action: s3:PutObject, Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: false}}}`, false},
		{`{Effect: Deny, Principal: "*", Action: "s3:*", Resource: !GetAtt Bucket.Arn, Condition: {Bool: {aws:SecureTransport: false}}}`, false},
		{`{Effect: Deny, Principal: "*", Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: true}}}`, false},
		{`{Effect: Deny, Principal: "*", Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"]}`, false},
	}
	for _, tt := range tests {
		_, s := parseStatement(t, tt.expr)
		if got := deniesPlainHTTP(s, "s3:*", arns); got != tt.want {
			t.Errorf("deniesPlainHTTP(%s): got %v, want %v", tt.expr, got, tt.want)
		}
	}
}
