// Package s3objects is the S3 adapter of the imports domain: Objects reads the file of an import
// (an imports.Objects, and the handlers' ObjectHeader), Uploads signs PUTs of files to import.
//
// It is a package of its own because only CreateImportFunction, ProcessImportFunction and
// CreateImportUploadFunction call S3. A function initialises every package it links at each cold
// start, and the S3 client's are not free: in package imports, which every function links, the
// adapter would make GetImportFunction, FailImportFunction and StartImportFunction pay that for a
// client they never build.
package s3objects
