// Package provision creates what a SAM template declares on the local stand-ins (DynamoDB Local,
// fauxqs for SQS and SNS, versitygw for S3) and records in the template's Bindings what each
// logical ID resolves to there: table names, queue URLs and ARNs, topic ARNs, bucket names.
//
// It is the one place that knows CloudFormation's property names for these resource types and
// where the stand-ins differ from AWS (DynamoDB Local's "ddblocal" region in ARNs, a bucket
// location constraint they do not need), so that functions and event sources downstream see
// AWS-shaped names and ARNs. A resource the template does not name gets a name as CloudFormation
// makes one, from the stack it belongs to (a nested application's own stack) and within its
// service's length limit (names.go). Resource types with no stand-in are skipped and listed, and
// any intrinsic that refers to one fails with an error naming it.
package provision
