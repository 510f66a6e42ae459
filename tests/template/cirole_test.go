package template

import (
	"path/filepath"
	"slices"
	"testing"
)

// createActions is, per resource type the app's templates declare, an action CloudFormation calls
// to create one (SAM's types by what they expand to). A type missing here fails the test: add it,
// and the action to CloudFormationExecutionRole in infra/ci/template.yaml.
var createActions = map[string]string{
	"AWS::CloudWatch::Alarm":         "cloudwatch:PutMetricAlarm",
	"AWS::CloudWatch::Dashboard":     "cloudwatch:PutDashboard",
	"AWS::Cognito::UserPool":         "cognito-idp:CreateUserPool",
	"AWS::Cognito::UserPoolClient":   "cognito-idp:CreateUserPoolClient",
	"AWS::DynamoDB::Table":           "dynamodb:CreateTable",
	"AWS::IAM::Role":                 "iam:CreateRole",
	"AWS::IAM::RolePolicy":           "iam:PutRolePolicy",
	"AWS::KMS::Key":                  "kms:CreateKey",
	"AWS::Logs::LogGroup":            "logs:CreateLogGroup",
	"AWS::S3::Bucket":                "s3:CreateBucket",
	"AWS::S3::BucketPolicy":          "s3:PutBucketPolicy",
	"AWS::SNS::Subscription":         "sns:Subscribe",
	"AWS::SNS::Topic":                "sns:CreateTopic",
	"AWS::SNS::TopicPolicy":          "sns:SetTopicAttributes",
	"AWS::SQS::Queue":                "sqs:CreateQueue",
	"AWS::SQS::QueuePolicy":          "sqs:SetQueueAttributes",
	"AWS::Serverless::Application":   "cloudformation:CreateStack",
	"AWS::Serverless::Function":      "lambda:CreateFunction",
	"AWS::Serverless::HttpApi":       "apigateway:POST",
	"AWS::Lambda::EventInvokeConfig": "lambda:PutFunctionEventInvokeConfig",
	"AWS::Lambda::Permission":        "lambda:AddPermission",
}

// TestCIRoleCreatesEveryResourceType: a deploy through CI runs as CloudFormationExecutionRole, so
// a resource type the templates gain without its action there fails the first preview with
// AccessDenied and rolls the stack back, which nothing local would show.
func TestCIRoleCreatesEveryResourceType(t *testing.T) {
	allowed := executionRoleActions(t)
	if len(allowed) == 0 {
		t.Fatal("CloudFormationExecutionRole allows no action: the test reads the wrong resource")
	}
	templates, _ := filepath.Glob("../../services/*/template.yaml")
	templates = append(templates, "../../template.yaml")
	for _, p := range templates {
		for _, r := range load(t, p).Resources {
			action, known := createActions[r.Type]
			switch {
			case !known:
				t.Errorf("%s: %s is %s, which createActions does not know: add the action CloudFormation needs to create it, here and to CloudFormationExecutionRole", p, r.LogicalID, r.Type)
			case !slices.ContainsFunc(allowed, func(a string) bool { return actionMatches(a, action) }):
				t.Errorf("%s: %s (%s) needs %s, which CloudFormationExecutionRole in infra/ci/template.yaml does not allow", p, r.LogicalID, r.Type, action)
			}
		}
	}
	// The check itself: an action the role does not allow is reported.
	if slices.ContainsFunc(allowed, func(a string) bool { return actionMatches(a, "cloudwatch:DeleteInsightRules") }) {
		t.Error("the role allows cloudwatch:DeleteInsightRules; the self-check expects it not to")
	}
}

// executionRoleActions lists the actions CloudFormationExecutionRole's Allow statements name, in
// its own Policies and in the role policies attached to it.
func executionRoleActions(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range identityPolicies(load(t, "../../infra/ci/template.yaml")) {
		if !slices.Contains(d.governs, "CloudFormationExecutionRole") {
			continue
		}
		for _, s := range d.statements() {
			if s.effect() != "Allow" {
				continue
			}
			for _, a := range s.actions() {
				if name, ok := a.(string); ok {
					out = append(out, name)
				}
			}
		}
	}
	return out
}
