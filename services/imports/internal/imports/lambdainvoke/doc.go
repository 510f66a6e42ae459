// Package lambdainvoke continues an import's chain through Lambda: Continuer (an
// imports.Continuer) queues the next link as an asynchronous Invoke of ProcessImportFunction.
//
// It is a package of its own because only CreateImportFunction, StartImportFunction and
// ProcessImportFunction call Lambda. A function initialises every package it links at each cold
// start, and the Lambda client's are not free (its schemas package alone was measured at about
// 1 ms and 680 KB allocated a cold start): in package imports, which every function links, the
// continuer would make GetImportFunction, FailImportFunction and CreateImportUploadFunction pay
// that for a client they never build.
package lambdainvoke
