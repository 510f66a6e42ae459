package iam

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

const (
	jobsTable    = "arn:aws:dynamodb:us-east-1:000000000000:table/stack-JobsTable"
	jobsStream   = jobsTable + "/stream/2026-01-01T00:00:00.000"
	jobsQueue    = "arn:aws:sqs:us-east-1:000000000000:stack-JobsQueue"
	jobsQueueURL = "http://sqs.us-east-1.localhost:4566/000000000000/stack-JobsQueue"
	failureQueue = "arn:aws:sqs:us-east-1:000000000000:stack-FailureQueue"
)

// parse reads an inline template the way the runner reads template.yaml.
func parse(t *testing.T, src string) *template.Template {
	t.Helper()
	tmpl, err := template.Parse([]byte(src), "/app")
	if err != nil {
		t.Fatalf("parse template: %v", err)
	}
	return tmpl
}

// bindings stands in for the provisioner: the names and ARNs of the resources the tests use.
func bindings(tmpl *template.Template) *template.Bindings {
	b := template.NewBindings(tmpl, "stack", "us-east-1")
	b.SetRef("JobsTable", "stack-JobsTable")
	b.SetAtt("JobsTable", "Arn", jobsTable)
	b.SetAtt("JobsTable", "StreamArn", jobsStream)
	b.SetRef("JobsQueue", jobsQueueURL)
	b.SetAtt("JobsQueue", "Arn", jobsQueue)
	b.SetAtt("FailureQueue", "Arn", failureQueue)
	b.SetRef("UploadsBucket", "stack-uploads")
	b.SetAtt("UploadsBucket", "Arn", "arn:aws:s3:::stack-uploads")
	return b
}

func function(t *testing.T, tmpl *template.Template, id string) template.Function {
	t.Helper()
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatalf("functions: %v", err)
	}
	for _, fn := range fns {
		if fn.LogicalID == id {
			return fn
		}
	}
	t.Fatalf("no function %s", id)
	return template.Function{}
}

func sources(policies []Policy) []string {
	var out []string
	for _, p := range policies {
		out = append(out, p.Source)
	}
	return out
}

type decisionCase struct {
	action, resource string
	want             Decision
}

func checkDecisions(t *testing.T, policies []Policy, cases []decisionCase) {
	t.Helper()
	for _, c := range cases {
		if got := Evaluate(Request{Action: c.action, Resource: c.resource}, policies...); got != c.want {
			t.Errorf("%s on %s: got %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

const explicitRoleTemplate = `
Conditions:
  Never: !Equals [a, b]
Resources:
  JobsTable: {Type: AWS::DynamoDB::Table}
  JobsQueue: {Type: AWS::SQS::Queue}
  SubmitJobRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: jobs
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: dynamodb:PutItem
                Resource: !GetAtt JobsTable.Arn
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
        - !Ref SharedReadPolicy
  # Attached twice, by the role's ManagedPolicyArns and by its own Roles: counted once.
  SharedReadPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref SubmitJobRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: !GetAtt JobsTable.Arn
  QueueAccessPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: queue
      Roles: [!Ref SubmitJobRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sqs:SendMessage
            Resource: !GetAtt JobsQueue.Arn
  NoDeletePolicy:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: !Ref SubmitJobRole
      PolicyName: no-delete
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Action: dynamodb:DeleteItem
            Resource: "*"
  NeverPolicy:
    Type: AWS::IAM::Policy
    Condition: Never
    Properties:
      PolicyName: never
      Roles: [!Ref SubmitJobRole]
      PolicyDocument:
        Statement: {Effect: Allow, Action: dynamodb:Query, Resource: "*"}
  OtherRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  OtherRolePolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: other
      Roles: [!Ref OtherRole]
      PolicyDocument:
        Statement: {Effect: Allow, Action: dynamodb:Scan, Resource: "*"}
  SubmitJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Role: !GetAtt SubmitJobRole.Arn
`

func TestFunctionPoliciesExplicitRole(t *testing.T) {
	tmpl := parse(t, explicitRoleTemplate)
	fn := function(t, tmpl, "SubmitJobFunction")

	id, err := RoleLogicalID(tmpl, fn)
	if err != nil || id != "SubmitJobRole" {
		t.Fatalf("RoleLogicalID: got %q, %v; want SubmitJobRole", id, err)
	}
	policies, err := FunctionPolicies(tmpl, bindings(tmpl), fn)
	if err != nil {
		t.Fatalf("FunctionPolicies: %v", err)
	}
	wantSources := []string{
		"SubmitJobRole inline policy jobs",
		"SubmitJobRole managed policy AWSLambdaBasicExecutionRole",
		"SubmitJobRole policy SharedReadPolicy",
		"SubmitJobRole policy QueueAccessPolicy",
		"SubmitJobRole policy NoDeletePolicy",
	}
	if got := sources(policies); !reflect.DeepEqual(got, wantSources) {
		t.Errorf("sources: got %q\nwant %q", got, wantSources)
	}
	checkDecisions(t, policies, []decisionCase{
		{"dynamodb:PutItem", jobsTable, Allow},                                // inline policy
		{"dynamodb:GetItem", jobsTable, Allow},                                // managed policy of the template
		{"sqs:SendMessage", jobsQueue, Allow},                                 // AWS::IAM::Policy naming the role
		{"logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:x", Allow}, // AWS managed policy
		{"dynamodb:DeleteItem", jobsTable, ExplicitDeny},                      // AWS::IAM::RolePolicy
		{"dynamodb:PutItem", jobsTable + "-other", ImplicitDeny},              // resource not granted
		{"dynamodb:Query", jobsTable, ImplicitDeny},                           // policy whose condition is false
		{"dynamodb:Scan", jobsTable, ImplicitDeny},                            // another role's policy
		{"sqs:ReceiveMessage", jobsQueue, ImplicitDeny},                       // no SQS managed policy on an explicit role
		{"dynamodb:GetRecords", jobsStream, ImplicitDeny},                     // nor the DynamoDB one
		{"sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:other", ImplicitDeny},
	})
}

const generatedRoleTemplate = `
Resources:
  JobsTable: {Type: AWS::DynamoDB::Table}
  JobsQueue: {Type: AWS::SQS::Queue}
  FailureQueue: {Type: AWS::SQS::Queue}
  UploadsBucket: {Type: AWS::S3::Bucket}
  ProcessJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Tracing: Active
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:UpdateItem]
              Resource: !GetAtt JobsTable.Arn
        - AWSLambdaBasicExecutionRole
      EventInvokeConfig:
        MaximumRetryAttempts: 2
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt FailureQueue.Arn
      Events:
        Jobs:
          Type: SQS
          Properties: {Queue: !GetAtt JobsQueue.Arn}
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt JobsTable.StreamArn
            StartingPosition: LATEST
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt FailureQueue.Arn
  # Attached to the role SAM generates, from outside the function.
  ProcessJobObjectsPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: objects
      Roles: [!Ref ProcessJobFunctionRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: !Sub ${UploadsBucket.Arn}/jobs/*
  GetJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Policies:
        Statement:
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: !GetAtt JobsTable.Arn
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: "/jobs/{id}", Method: GET}
`

func TestFunctionPoliciesGeneratedRole(t *testing.T) {
	tmpl := parse(t, generatedRoleTemplate)
	b := bindings(tmpl)

	process := function(t, tmpl, "ProcessJobFunction")
	if id, err := RoleLogicalID(tmpl, process); err != nil || id != "" {
		t.Errorf("RoleLogicalID: got %q, %v; want \"\" for a role SAM generates", id, err)
	}
	policies, err := FunctionPolicies(tmpl, b, process)
	if err != nil {
		t.Fatalf("FunctionPolicies: %v", err)
	}
	wantSources := []string{
		"ProcessJobFunctionRole inline policy ProcessJobFunctionRolePolicy0",
		"ProcessJobFunctionRole inline policy ProcessJobFunctionEventInvokeConfigOnFailureSQSPolicy",
		"ProcessJobFunctionRole inline policy ProcessJobFunctionChangesSQSPolicy",
		"ProcessJobFunctionRole managed policy AWSLambdaBasicExecutionRole",
		"ProcessJobFunctionRole managed policy AWSXrayWriteOnlyAccess",
		// Events in order of their names: Changes, then Jobs.
		"ProcessJobFunctionRole managed policy AWSLambdaDynamoDBExecutionRole",
		"ProcessJobFunctionRole managed policy AWSLambdaSQSQueueExecutionRole",
		"ProcessJobFunctionRole policy ProcessJobObjectsPolicy",
	}
	if got := sources(policies); !reflect.DeepEqual(got, wantSources) {
		t.Errorf("sources: got %q\nwant %q", got, wantSources)
	}
	checkDecisions(t, policies, []decisionCase{
		{"dynamodb:GetItem", jobsTable, Allow},    // Policies
		{"dynamodb:UpdateItem", jobsTable, Allow}, // Policies
		{"dynamodb:PutItem", jobsTable, ImplicitDeny},
		{"sqs:ReceiveMessage", jobsQueue, Allow},   // AWSLambdaSQSQueueExecutionRole, on every queue
		{"sqs:DeleteMessage", failureQueue, Allow}, // ... really every queue
		{"sqs:SendMessage", failureQueue, Allow},   // the OnFailure destinations
		{"sqs:SendMessage", jobsQueue, ImplicitDeny},
		{"dynamodb:GetRecords", jobsStream, Allow}, // AWSLambdaDynamoDBExecutionRole
		{"logs:CreateLogStream", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/x", Allow},
		{"xray:PutTraceSegments", "*", Allow},
		{"s3:GetObject", "arn:aws:s3:::stack-uploads/jobs/1.csv", Allow}, // AWS::IAM::Policy on the generated role
		{"s3:GetObject", "arn:aws:s3:::stack-uploads/other/1.csv", ImplicitDeny},
	})

	get := function(t, tmpl, "GetJobFunction")
	policies, err = FunctionPolicies(tmpl, b, get)
	if err != nil {
		t.Fatalf("FunctionPolicies: %v", err)
	}
	wantSources = []string{
		"GetJobFunctionRole inline policy GetJobFunctionRolePolicy0",
		"GetJobFunctionRole managed policy AWSLambdaBasicExecutionRole",
	}
	if got := sources(policies); !reflect.DeepEqual(got, wantSources) {
		t.Errorf("sources: got %q\nwant %q", got, wantSources)
	}
	checkDecisions(t, policies, []decisionCase{
		{"dynamodb:GetItem", jobsTable, Allow},
		{"logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/x", Allow},
		{"sqs:ReceiveMessage", jobsQueue, ImplicitDeny},   // no SQS event, no SQS managed policy
		{"dynamodb:GetRecords", jobsStream, ImplicitDeny}, // no stream event
		{"s3:GetObject", "arn:aws:s3:::stack-uploads/jobs/1.csv", ImplicitDeny},
		{"xray:PutTraceSegments", "*", ImplicitDeny}, // no Tracing
	})
}

func TestFunctionPoliciesRefuses(t *testing.T) {
	// fn declares WorkFunction with the given properties (indented under Properties).
	fn := func(props string) string {
		return `
Resources:
  JobsTable: {Type: AWS::DynamoDB::Table}
  JobsQueue: {Type: AWS::SQS::Queue}
  WorkRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/work
` + props
	}
	tests := []struct {
		name    string
		src     string
		wantErr string
	}{
		{"managed policy on the role", fn(`      Role: !GetAtt WorkRole.Arn`),
			"managed policy arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess cannot be evaluated locally; state the statements inline"},
		{"managed policy in Policies", fn(`      Policies: [AmazonS3ReadOnlyAccess]`),
			"managed policy AmazonS3ReadOnlyAccess cannot be evaluated locally"},
		{"managed policy ARN in Policies", fn(`      Policies: [arn:aws:iam::aws:policy/AmazonSQSFullAccess]`),
			"managed policy arn:aws:iam::aws:policy/AmazonSQSFullAccess cannot be evaluated locally"},
		{"SAM policy template", fn(`      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt JobsQueue.QueueName`),
			"SAM policy template SQSSendMessagePolicy is not evaluated locally"},
		{"Role and Policies", fn(`      Role: !GetAtt WorkRole.Arn
      Policies: [AWSLambdaBasicExecutionRole]`), "SAM ignores Policies when Role is set"},
		{"role from outside the template", fn(`      Role: arn:aws:iam::000000000000:role/work`), "a role from outside the template cannot be evaluated locally"},
		{"Role naming something else", fn(`      Role: !GetAtt JobsQueue.Arn`), "JobsQueue, which is not an AWS::IAM::Role"},
		{"Principal in an identity policy", fn(`      Policies:
        - Statement:
            - Effect: Allow
              Principal: "*"
              Action: dynamodb:GetItem
              Resource: !GetAtt JobsTable.Arn`), "an identity-based policy takes no Principal"},
		{"unknown condition key", fn(`      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !GetAtt JobsTable.Arn
              Condition:
                StringEquals:
                  aws:PrincipalTag/team: jobs`), `condition key "aws:PrincipalTag/team"`},
		{"permissions boundary", fn(`      PermissionsBoundary: arn:aws:iam::000000000000:policy/boundary`), "permissions boundaries are not evaluated locally"},
		{"event whose policies are not known", fn(`      Events:
        Broker:
          Type: MQ
          Properties: {Broker: arn:aws:mq:us-east-1:000000000000:broker:b, Queues: [q]}`), "MQ event are not evaluated locally"},
		{"destination SAM would create", fn(`      EventInvokeConfig:
        DestinationConfig:
          OnFailure: {Type: SQS}`), "the queue or topic SAM would create is not evaluated locally"},
		{"statement not a policy", fn(`      Policies:
        - Effect: Allow
          Action: "*"`), "Policies[0] is neither a policy document nor a managed policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := parse(t, tt.src)
			_, err := FunctionPolicies(tmpl, bindings(tmpl), function(t, tmpl, "WorkFunction"))
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "policies of function WorkFunction: ") {
				t.Errorf("got error %q, want it to name the function", err)
			}
		})
	}
}

const resourcePoliciesTemplate = `
Resources:
  UploadsBucket: {Type: AWS::S3::Bucket}
  JobsQueue: {Type: AWS::SQS::Queue}
  AuditQueue: {Type: AWS::SQS::Queue}
  EventsTopic: {Type: AWS::SNS::Topic}
  UploadsBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref UploadsBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyPlainHTTP
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource:
              - !GetAtt UploadsBucket.Arn
              - !Sub ${UploadsBucket.Arn}/*
            Condition:
              Bool:
                aws:SecureTransport: false
  QueuesPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue, !Ref AuditQueue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: "*"
            Condition:
              ArnEquals:
                aws:SourceArn: !Ref EventsTopic
  EventsTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref EventsTopic]
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: {AWS: "*"}
            Action: sns:DeleteTopic
            Resource: !Ref EventsTopic
`

func resourceBindings(tmpl *template.Template) *template.Bindings {
	b := bindings(tmpl)
	b.SetRef("AuditQueue", "http://sqs.us-east-1.localhost:4566/000000000000/stack-AuditQueue")
	b.SetRef("EventsTopic", "arn:aws:sns:us-east-1:000000000000:stack-EventsTopic")
	return b
}

func TestResourcePolicies(t *testing.T) {
	tmpl := parse(t, resourcePoliciesTemplate)
	got, err := ResourcePolicies(tmpl, resourceBindings(tmpl))
	if err != nil {
		t.Fatalf("ResourcePolicies: %v", err)
	}
	const topicARN = "arn:aws:sns:us-east-1:000000000000:stack-EventsTopic"
	wantSources := map[string]string{
		"stack-uploads": "UploadsBucketPolicy",
		jobsQueueURL:    "QueuesPolicy",
		"http://sqs.us-east-1.localhost:4566/000000000000/stack-AuditQueue": "QueuesPolicy",
		topicARN: "EventsTopicPolicy",
	}
	gotSources := map[string]string{}
	for k, p := range got {
		gotSources[k] = p.Source
	}
	if !reflect.DeepEqual(gotSources, wantSources) {
		t.Fatalf("policies by resource: got %v\nwant %v", gotSources, wantSources)
	}

	role := "arn:aws:sts::000000000000:assumed-role/stack-WorkFunctionRole-X/stack-WorkFunction"
	identity := []Policy{mustPolicy(t, allow(`"*"`, `"*"`))}
	tests := []struct {
		name      string
		key       string
		req       Request
		principal string
		identity  []Policy
		want      Decision
	}{
		{"bucket over HTTP", "stack-uploads", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::stack-uploads/uploads/a",
			Context: map[string][]string{"aws:SecureTransport": {"false"}}}, role, identity, ExplicitDeny},
		{"bucket over HTTPS", "stack-uploads", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::stack-uploads/uploads/a",
			Context: map[string][]string{"aws:SecureTransport": {"true"}}}, role, identity, Allow},
		{"bucket itself over HTTP", "stack-uploads", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::stack-uploads",
			Context: map[string][]string{"aws:SecureTransport": {"false"}}}, role, identity, ExplicitDeny},
		{"SNS delivery from the topic", jobsQueueURL, Request{Action: "sqs:SendMessage", Resource: jobsQueue,
			Context: map[string][]string{"aws:SourceArn": {topicARN}}}, "service:sns.amazonaws.com", nil, Allow},
		{"SNS delivery from another topic", jobsQueueURL, Request{Action: "sqs:SendMessage", Resource: jobsQueue,
			Context: map[string][]string{"aws:SourceArn": {topicARN + "-2"}}}, "service:sns.amazonaws.com", nil, ImplicitDeny},
		{"topic deletion", topicARN, Request{Action: "sns:DeleteTopic", Resource: topicARN}, role, identity, ExplicitDeny},
		{"topic publish", topicARN, Request{Action: "sns:Publish", Resource: topicARN}, role, identity, Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := got[tt.key]
			if d := EvaluateWithResourcePolicy(tt.req, tt.principal, tt.identity, &p); d != tt.want {
				t.Errorf("got %v, want %v", d, tt.want)
			}
		})
	}
}

func TestResourcePoliciesRefuses(t *testing.T) {
	tests := []struct {
		name    string
		extra   string
		wantErr string
	}{
		{"two policies for one queue", `
  JobsQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue]
      PolicyDocument:
        Statement: {Effect: Deny, Principal: "*", Action: sqs:PurgeQueue, Resource: "*"}`,
			"resource policies JobsQueuePolicy and QueuesPolicy both govern " + jobsQueueURL},
		{"statement without a principal", `
  AuditTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref EventsTopic]
      PolicyDocument:
        Statement: {Effect: Deny, Action: sns:DeleteTopic, Resource: "*"}`,
			"resource policy AuditTopicPolicy: statement 0 has no Principal"},
		{"unknown condition key", `
  AuditTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref EventsTopic]
      PolicyDocument:
        Statement:
          Effect: Deny
          Principal: "*"
          Action: sns:Publish
          Resource: "*"
          Condition: {IpAddress: {aws:SourceIp: 10.0.0.0/8}}`,
			`condition operator "IpAddress"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := parse(t, resourcePoliciesTemplate+tt.extra)
			_, err := ResourcePolicies(tmpl, resourceBindings(tmpl))
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
