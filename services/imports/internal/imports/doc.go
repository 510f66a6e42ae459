// Package imports is the domain of the recursive batch-processing pattern: a file of order
// records, too large for one Lambda invocation, is imported by a chain of invocations, each
// continuing where the last one stopped.
//
// The package holds the rules (what a valid record is, where an invocation may resume, when a
// chain must stop), which consume their adapters through small interfaces (Store, Objects,
// Continuer). Each adapter is a package of its own, imported only by the mains that build its
// SDK client: dynamostore (DynamoDB, every function but CreateImportUploadFunction), s3objects
// (S3) and lambdainvoke (Lambda). Every function links this package, through the handlers, so it
// imports no AWS SDK service package: a function links only the clients it builds. The package
// knows nothing about API Gateway, S3 notifications or SQS: the handlers package translates those.
//
// An import's life:
//
//	RUNNING ──last line checkpointed──▶ SUCCEEDED
//	   └──hop limit, object changed, chain broke──▶ FAILED
//
// Progress is one checkpoint on the import record, {offset, line, counts}, moved only by a
// conditional update that names the offset it expects to move from. Records and rejects are
// written keyed by import and line number before the checkpoint moves past them, so a batch
// that is cut off, retried or run twice rewrites the same items and counts once: the effect of
// every line happens exactly once, whatever Lambda delivers.
package imports
