// Package lambdainvoke continues an import's chain through Lambda: Continuer (an
// imports.Continuer) queues the next link as an asynchronous Invoke of ProcessImportFunction.
//
// It makes that one call with shared/awscall, not with the SDK's Lambda client: linking
// github.com/aws/aws-sdk-go-v2/service/lambda costs every cold start of the three functions that
// hand over (CreateImportFunction, StartImportFunction, ProcessImportFunction) its package
// initialisation, whether they call it or not. Its schemas package alone builds the shapes of
// Lambda's ~90 operations: 0.6 ms and 680 KB, a sixth of the whole SDK floor, which put those
// three functions at 1.2–1.5 times the floor (`make bench`; the root README gives the runs). What
// is written here by hand is the request (the path, the invocation type, the payload) and the
// check of the answer, and lambda_test.go holds both to lambda.Client's: the same request with a
// valid signature, the same errors and number of attempts for each answer Lambda gives, the same
// endpoint.
//
// It is a package of its own so that the functions that do not hand over (GetImportFunction,
// FailImportFunction, CreateImportUploadFunction) link none of it.
package lambdainvoke
