// Package dynamostore is the DynamoDB adapter of the imports domain: Store (an imports.Store)
// keeps each import, its checkpoint, and the orders and rejects it wrote, in three tables.
//
// It is a package of its own because CreateImportUploadFunction, which only signs an S3 PUT, does
// not call DynamoDB. A function initialises every package it links at each cold start, and the
// DynamoDB client's are not free (its schemas package alone was measured at 0.6 to 0.9 ms and
// 590 KB allocated a cold start): in package imports, which every function links through the
// handlers, the store would make CreateImportUploadFunction pay that for a client it never builds.
// The other five functions import it from their mains.
package dynamostore
