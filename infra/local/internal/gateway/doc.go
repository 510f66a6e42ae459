// Package gateway puts an IAM check in front of each local stand-in for an AWS service, so that
// the local stack refuses what AWS would refuse.
//
// The stand-ins (DynamoDB Local, fauxqs for SQS and SNS, versitygw for S3, the runner's own Lambda
// Invoke API) accept any credentials, or in versitygw's case any known key, whatever the caller's
// role allows. Without this package a function whose role was never granted dynamodb:PutItem on a
// table, or kms:Decrypt on a bucket's key, passes every local run and fails only once deployed.
//
// A Gateway is one reverse proxy per service. For each request it:
//
//   - reads who signed it: the access key id from the SigV4 Authorization header, or from
//     X-Amz-Credential for a pre-signed URL (Config.Callers maps the key to the function);
//   - works out every IAM authorization the request needs (Classify): the action named by the
//     DynamoDB or SQS X-Amz-Target, the SNS Action, the S3 method, path and sub-resource, or the
//     Lambda Invoke path, on the ARN of the table, index, stream, queue, topic, bucket, object or
//     function, including the ones AWS checks implicitly (each table of a batch, each item of a
//     transaction, each key of a multi-object delete, the source of a copy, the tagging signed into
//     an upload, the KMS key of an SSE-KMS bucket);
//   - asks the caller's Authorize for each of them, and either forwards the request unchanged (same
//     method, path, query, headers, body and Host, so versitygw can still verify the signature) or
//     answers with the error the service itself returns (status, headers, body, message text), so
//     the function's SDK returns the same typed error it would get on AWS;
//   - logs each refusal once at WARN ("IAM denied", function, action, resource, service);
//   - with Config.Faults, lets an allowed request meet one of AWS's everyday failures first
//     (package faults): the service's throttling or 500 error in its own shape, added latency, or
//     the request forwarded and its answer lost to a connection reset (faults.go).
//
// Two of S3's rules are applied after the stand-in answered: a GET or HEAD of a missing key is 404
// NoSuchKey only for a caller allowed s3:ListBucket on the bucket and 403 AccessDenied for anyone
// else; and a refused S3 request from a browser page (with an Origin header) still carries the CORS
// headers the stand-in would have sent, fetched with a preflight, so the page can read the error.
//
// A request the gateway does not understand is refused (501 NotImplemented in the service's error
// shape) rather than forwarded: forwarding it would be a silent allow. Keys that Config.Trusted
// accepts (the runner's own provisioning and polling, the test clients) skip every check, and so
// does a CORS preflight (OPTIONS), which carries no credentials on AWS either.
//
// What it does not model:
//   - Signatures. Only the access key id is read; versitygw verifies S3 signatures itself, the
//     other stand-ins verify nothing, so a request signed with the right key id and a wrong secret
//     passes locally for DynamoDB, SQS, SNS and Lambda.
//   - Condition keys other than aws:SecureTransport (always true: the gateway stands for AWS's
//     HTTPS endpoint), aws:RequestedRegion, s3:prefix, s3:delimiter, s3:max-keys, s3:authType,
//     s3:signatureversion, s3:x-amz-content-sha256, s3:x-amz-server-side-encryption(-aws-kms-key-id),
//     kms:ViaService and kms:CallerAccount. In particular dynamodb:LeadingKeys and dynamodb:Attributes
//     (they need the table's key schema and the expressions parsed), the KMS encryption context and
//     principal keys such as aws:PrincipalArn (the caller's Authorize may add those) are absent.
//   - Which kind of policy denied. An explicit deny is always reported as "in an identity-based
//     policy", also when a bucket or queue policy denied.
//   - Requests the classifier refuses: PartiQL (ExecuteStatement and friends), S3 browser POST
//     uploads, virtual-hosted-style S3 addressing and access points, SQS over the old query
//     protocol, SQS message move tasks, Lambda APIs other than Invoke.
//   - The order of S3's checks for a missing key: kms:Decrypt is asked before the object is read,
//     so a caller allowed s3:GetObject but not kms:Decrypt gets the KMS error also for a missing key.
package gateway
