// Package uploads holds the rules of the pre-signed upload pattern: what a caller may ask to
// upload (type, size, file name), how the one object key it may write is chosen, how an object
// that S3 reports as created is verified against what was declared, and who may read it back.
//
// An upload moves PENDING → AVAILABLE or PENDING → REJECTED, once: every status change is
// conditional on PENDING, so a duplicate S3 notification or a retried verification changes
// nothing. The bytes never pass through Lambda; this package signs requests and inspects objects.
//
// The DynamoDB adapter (DynamoStore), which every function calls, lives here too, behind the
// small interface the rules call (Store). The S3 adapter, behind ObjectStore and Signer, is
// package s3objects: only some functions call S3, and the others must not link its client.
package uploads
