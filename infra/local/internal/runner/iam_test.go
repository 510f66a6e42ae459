package runner

import (
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/internal/gateway"
)

// roleFunction is the test template with WorkFunction running as WorkRole, whose one inline
// policy holds statements (YAML flow mappings), plus extra resources and function properties.
func roleFunction(statements []string, props []string, events []string, extra string) string {
	var b strings.Builder
	b.WriteString(workFunction(append([]string{"Role: !GetAtt WorkRole.Arn"}, props...), events...))
	b.WriteString(`  WorkRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: Work
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
`)
	for _, s := range statements {
		b.WriteString("              - " + s + "\n")
	}
	b.WriteString(extra)
	return b.String()
}

// testIdentities loads the identities of src's functions as the runner does after provisioning.
func testIdentities(t *testing.T, src string) (*identities, *wiring) {
	t.Helper()
	ids, w, err := loadIdentities(t, src)
	if err != nil {
		t.Fatalf("load identities: %v", err)
	}
	return ids, w
}

// loadIdentities binds WorkRole as provisioning would and loads the identities, returning load's error.
func loadIdentities(t *testing.T, src string) (*identities, *wiring, error) {
	t.Helper()
	w := testWiring(t, src)
	w.bindings.SetRef("WorkRole", "local-WorkRole")
	w.bindings.SetAtt("WorkRole", "Arn", "arn:aws:iam::000000000000:role/local-WorkRole")
	w.resources.RoleNames = map[string]string{"WorkRole": "local-WorkRole"}
	ids, err := newIdentities(w.functions)
	if err != nil {
		t.Fatal(err)
	}
	return ids, w, ids.load(w.tmpl, w.bindings, w.functions, w.resources)
}

const (
	receiveJobs = "{Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes], Resource: !GetAtt JobsQueue.Arn}"
	readStream  = "{Effect: Allow, Action: [dynamodb:GetRecords, dynamodb:GetShardIterator, dynamodb:DescribeStream], Resource: !GetAtt AccountsTable.StreamArn}"
	sendFailure = "{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt FailuresQueue.Arn}"
)

// Lambda acts with the function's role when it polls a queue, reads a stream or sends to a
// destination, and CloudFormation fails to create what the role cannot do: so does the runner.
func TestCheckEventSources(t *testing.T) {
	sqsEvent := "Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn}}"
	streamEvent := "Accounts: {Type: DynamoDB, Properties: {Stream: !GetAtt AccountsTable.StreamArn, StartingPosition: TRIM_HORIZON, DestinationConfig: {OnFailure: {Destination: !GetAtt FailuresQueue.Arn}}}}"
	onFailure := "EventInvokeConfig: {MaximumRetryAttempts: 2, DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt FailuresQueue.Arn}}}"
	tests := []struct {
		name       string
		statements []string
		props      []string
		events     []string
		want       string
	}{
		{"queue allowed", []string{receiveJobs}, nil, []string{sqsEvent}, ""},
		{"queue without DeleteMessage",
			[]string{"{Effect: Allow, Action: [sqs:ReceiveMessage, sqs:GetQueueAttributes], Resource: !GetAtt JobsQueue.Arn}"}, nil, []string{sqsEvent},
			"function WorkFunction event Jobs: Invalid request provided: The provided execution role does not have permissions to call DeleteMessage on SQS"},
		{"another queue's permissions",
			[]string{"{Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes], Resource: !GetAtt FailuresQueue.Arn}"}, nil, []string{sqsEvent},
			"permissions to call ReceiveMessage on SQS"},
		{"stream and its destination allowed", []string{readStream, sendFailure}, nil, []string{streamEvent}, ""},
		{"stream not readable", []string{sendFailure}, nil, []string{streamEvent},
			"Cannot access stream " + accountsStream + ". Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions"},
		{"stream destination not allowed", []string{readStream}, nil, []string{streamEvent},
			"function WorkFunction event Accounts OnFailure: The function's execution role does not have permissions to call SendMessage on " + failuresQueueARN},
		{"async destination allowed", []string{sendFailure}, []string{onFailure}, nil, ""},
		{"async destination not allowed", []string{"{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt JobsQueue.Arn}"}, []string{onFailure}, nil,
			"function WorkFunction EventInvokeConfig OnFailure: The function's execution role does not have permissions to call SendMessage on " + failuresQueueARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, w := testIdentities(t, roleFunction(tt.statements, tt.props, tt.events, ""))
			if err := ids.checkEventSources(w); !errorContains(err, tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// A request is decided by the function's role and the resource's own policy together: an
// explicit deny in the queue policy wins over the role's allow; a missing key of another
// function's is nobody's.
func TestIdentitiesDecide(t *testing.T) {
	queuePolicy := `  JobsQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Sid: DenyPlainHTTP, Effect: Deny, Principal: "*", Action: "sqs:*", Resource: !GetAtt JobsQueue.Arn, Condition: {Bool: {"aws:SecureTransport": false}}}
          - {Sid: NoPurge, Effect: Deny, Principal: "*", Action: sqs:PurgeQueue, Resource: !GetAtt JobsQueue.Arn}
`
	ids, _ := testIdentities(t, roleFunction([]string{"{Effect: Allow, Action: [sqs:SendMessage, sqs:PurgeQueue], Resource: !GetAtt JobsQueue.Arn}"}, nil, nil, queuePolicy))
	caller, ok := ids.caller("AKIAWORKFUNCTION")
	if !ok {
		t.Fatal("the function's key is not known")
	}
	if want := "arn:aws:sts::000000000000:assumed-role/local-WorkRole/local-WorkFunction"; caller.ARN != want {
		t.Errorf("caller ARN: got %q, want %q", caller.ARN, want)
	}
	tls := map[string][]string{"aws:SecureTransport": {"true"}}
	tests := []struct {
		action, resource  string
		context           map[string][]string
		allowed, explicit bool
	}{
		{"sqs:SendMessage", jobsQueueARN, tls, true, false},
		{"sqs:SendMessage", failuresQueueARN, tls, false, false},
		{"sqs:PurgeQueue", jobsQueueARN, tls, false, true},
		{"sqs:SendMessage", jobsQueueARN, map[string][]string{"aws:SecureTransport": {"false"}}, false, true},
	}
	for _, tt := range tests {
		allowed, explicit := caller.Authorize(gateway.Access{Action: tt.action, Resource: tt.resource, Context: tt.context})
		if allowed != tt.allowed || explicit != tt.explicit {
			t.Errorf("%s on %s (%v): got allowed %v explicit deny %v, want %v %v", tt.action, tt.resource, tt.context, allowed, explicit, tt.allowed, tt.explicit)
		}
	}
	if _, ok := ids.caller("local"); ok {
		t.Error("the runner's own key is a function's, want unknown to the callers (it is trusted separately)")
	}
}

// A condition key the local requests never carry would be missing here and present on AWS: a
// ForAllValues condition on it holds when it is missing, so the statement would allow locally what
// AWS denies. Such a statement stops the runner; keys the gateways supply, and statements that
// apply only to AWS services, do not.
func TestConditionKeysNotEmulatedStopTheRunner(t *testing.T) {
	tests := []struct {
		name      string
		statement string
		extra     string
		want      string
	}{
		{"key the gateway supplies", `{Effect: Allow, Action: s3:ListBucket, Resource: !GetAtt UploadsBucket.Arn, Condition: {StringLike: {"s3:prefix": "uploads/*"}}}`, "", ""},
		{"principal key the runner supplies", `{Effect: Deny, Action: "sqs:*", Resource: !GetAtt JobsQueue.Arn, Condition: {ArnNotEquals: {"aws:PrincipalArn": !GetAtt WorkRole.Arn}}}`, "", ""},
		{"key no local request carries", `{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt AccountsTable.Arn, Condition: {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["alice"]}}}`, "",
			"condition key dynamodb:LeadingKeys is not emulated locally"},
		{"service principal in a resource policy", receiveJobs, `  JobsQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt JobsQueue.Arn, Condition: {ArnEquals: {"aws:SourceArn": !Ref AlarmTopic}}}
`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := loadIdentities(t, roleFunction([]string{tt.statement}, nil, nil, tt.extra)); !errorContains(err, tt.want) {
				t.Errorf("load: got %v, want %q", err, tt.want)
			}
		})
	}
}

// aws:PrincipalArn is the role's ARN for every session of it: a queue policy denying everyone but
// the function's role lets the function through and no one else.
func TestPrincipalArnIsTheRole(t *testing.T) {
	queuePolicy := `  JobsQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Deny, Principal: "*", Action: "sqs:*", Resource: !GetAtt JobsQueue.Arn, Condition: {ArnNotEquals: {"aws:PrincipalArn": "arn:aws:iam::000000000000:role/someone-else"}}}
`
	ids, _ := testIdentities(t, roleFunction([]string{"{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt JobsQueue.Arn}"}, nil, nil, queuePolicy))
	caller, _ := ids.caller("AKIAWORKFUNCTION")
	allowed, explicit := caller.Authorize(gateway.Access{Action: "sqs:SendMessage", Resource: jobsQueueARN, Context: map[string][]string{"aws:SecureTransport": {"true"}}})
	if allowed || !explicit {
		t.Errorf("got allowed %v explicit deny %v, want the queue policy's deny (the role is not someone-else)", allowed, explicit)
	}
}
