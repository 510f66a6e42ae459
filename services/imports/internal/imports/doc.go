// Package imports is the domain of the recursive batch-processing pattern: a file of order
// records, too large for one Lambda invocation, is imported by a chain of invocations, each
// continuing where the last one stopped.
//
// The package holds the rules (what a valid record is, where an invocation may resume, when a
// chain must stop) and the DynamoDB adapter, which every function calls. The rules consume their
// adapters through small interfaces (Store, Objects, Continuer); the S3 and Lambda adapters, which
// only some functions call, are packages of their own (s3objects, lambdainvoke), so that the other
// functions do not link those SDK clients. The package knows nothing about API Gateway, S3
// notifications or SQS: the handlers package translates those.
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
