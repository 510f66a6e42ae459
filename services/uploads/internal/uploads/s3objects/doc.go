// Package s3objects is the S3 adapter of the uploads domain: Objects signs PUTs and GETs of
// single objects (an uploads.Signer) and inspects, keeps or deletes uploaded objects (an
// uploads.ObjectStore).
//
// It is a package of its own because only CreateUploadFunction, DownloadUploadFunction and
// VerifyUploadFunction call S3. A function initialises every package it links at each cold start,
// and the S3 client's are not free: in package uploads, which every function links, the adapter
// would make GetUploadFunction and ListUploadsFunction pay that for a client they never build.
package s3objects
