package iam

import (
	"encoding/json"
	"fmt"
	"strings"
)

// managedARNPrefix begins the ARN of every AWS managed policy.
const managedARNPrefix = "arn:aws:iam::aws:policy/"

// awsManagedDocument returns the document of an AWS managed policy the local runner can evaluate:
// those SAM attaches to the roles it generates for functions. The documents are copies of each
// policy's default version in IAM (version noted); AWS revises them rarely, and a revision shows
// here only when this copy is updated.
func awsManagedDocument(arn string) (string, bool) {
	switch arn {
	case managedARNPrefix + "service-role/AWSLambdaBasicExecutionRole": // v1
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`, true
	case managedARNPrefix + "service-role/AWSLambdaSQSQueueExecutionRole": // v1
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
			"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`, true
	case managedARNPrefix + "service-role/AWSLambdaDynamoDBExecutionRole": // v1
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
			"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`, true
	case managedARNPrefix + "service-role/AWSLambdaKinesisExecutionRole": // v2
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
			"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
			"kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams", "kinesis:SubscribeToShard",
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`, true
	case managedARNPrefix + "service-role/AWSLambdaVPCAccessExecutionRole": // v3
		return `{"Version": "2012-10-17", "Statement": [{"Sid": "AWSLambdaVPCAccessExecutionPermissions",
			"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
			"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
			"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
			"Resource": "*"}]}`, true
	case managedARNPrefix + "AWSXrayWriteOnlyAccess": // v2
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
			"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
			"xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"], "Resource": ["*"]}]}`, true
	default:
		return "", false
	}
}

// managedPolicyARN turns a managed policy as SAM's Policies names it, by name or by ARN, into
// its ARN. Only the names of the policies the local runner holds are known.
func managedPolicyARN(nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	for _, path := range []string{"service-role/", ""} {
		if _, ok := awsManagedDocument(managedARNPrefix + path + nameOrARN); ok {
			return managedARNPrefix + path + nameOrARN
		}
	}
	return nameOrARN
}

// awsManagedPolicy returns the AWS managed policy with the given ARN, attached to roleID.
func awsManagedPolicy(roleID, arn string) (Policy, error) {
	doc, ok := awsManagedDocument(arn)
	if !ok {
		return Policy{}, fmt.Errorf("managed policy %s cannot be evaluated locally; state the statements inline", arn)
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return Policy{}, fmt.Errorf("decode managed policy %s: %w", arn, err)
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	return ParsePolicy(roleID+" managed policy "+name, v)
}
