package template

import (
	"reflect"
	"testing"
)

func TestPoliciesOf(t *testing.T) {
	v := valueOf(t, `
        - AmazonDynamoDBFullAccess
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonSQSFullAccess
        - Statement:
            - {Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}
        - SQSSendMessagePolicy: {QueueName: !GetAtt Queue.QueueName}
        - {A: 1, B: 2}`)
	type entry struct {
		where    string
		kind     policyKind
		template string
	}
	var got []entry
	for _, p := range policiesOf(v) {
		got = append(got, entry{p.where, p.kind, p.template})
	}
	want := []entry{
		{"Policies[0]", managedPolicy, ""},
		{"Policies[1]", managedPolicy, ""},
		{"Policies[2]", policyDocument, ""},
		{"Policies[3]", policyTemplate, "SQSSendMessagePolicy"},
		{"Policies[4]", malformedPolicy, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPoliciesOfSingleEntry(t *testing.T) {
	tests := []struct {
		expr string
		kind policyKind
	}{
		{`AWSLambdaBasicExecutionRole`, managedPolicy},
		{`{Statement: {Effect: Allow, Action: s3:GetObject, Resource: !Sub "${Bucket.Arn}/x"}}`, policyDocument},
		{`{DynamoDBReadPolicy: {TableName: !Ref Table}}`, policyTemplate},
	}
	for _, tt := range tests {
		ps := policiesOf(valueOf(t, tt.expr))
		if len(ps) != 1 || ps[0].kind != tt.kind || ps[0].where != "Policies" {
			t.Errorf("policiesOf(%s): got %+v, want one entry at Policies of kind %d", tt.expr, ps, tt.kind)
		}
	}
	if ps := policiesOf(nil); len(ps) != 0 {
		t.Errorf("policiesOf(nil): got %d entries, want none", len(ps))
	}
}

func TestStatementsOf(t *testing.T) {
	v := valueOf(t, `
        - Statement:
            - {Effect: Allow, Action: [dynamodb:GetItem, dynamodb:PutItem], Resource: !GetAtt Table.Arn}
            - {Effect: Allow, Action: sqs:SendMessage, Resource: [!GetAtt A.Arn, !GetAtt B.Arn]}
        - SQSPollerPolicy: {QueueName: !GetAtt Queue.QueueName}
        - Statement: {Effect: Allow, Action: sns:Publish, Resource: !Ref Topic}`)
	type counts struct {
		where              string
		actions, resources int
	}
	var got []counts
	for _, s := range statementsOf(policiesOf(v)) {
		got = append(got, counts{s.where, len(s.actions()), len(s.resources())})
	}
	want := []counts{
		{"Policies[0].Statement[0]", 2, 1},
		{"Policies[0].Statement[1]", 1, 2},
		{"Policies[2].Statement", 1, 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestActionMatches(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"lambda:InvokeFunction", "lambda:InvokeFunction", true},
		{"Lambda:invokefunction", "lambda:InvokeFunction", true},
		{"lambda:Invoke*", "lambda:InvokeFunction", true},
		{"lambda:*", "lambda:InvokeFunction", true},
		{"*", "lambda:InvokeFunction", true},
		{"lambda:GetFunction", "lambda:InvokeFunction", false},
		{"sqs:*", "lambda:InvokeFunction", false},
	}
	for _, tt := range tests {
		if got := actionMatches(tt.pattern, tt.action); got != tt.want {
			t.Errorf("actionMatches(%q, %q): got %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}
