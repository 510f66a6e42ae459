package uploads

// The tests in package uploads_test run the verifier on the S3 adapter, package s3objects, which
// imports this package: they cannot be in package uploads. This file lends them the test helpers
// of package uploads they use.

const UploadID = uploadID

var (
	PNGBytes      = pngBytes
	PendingUpload = pendingUpload
	NewMemStore   = newMemStore
	FixedNow      = fixedNow
	QuietLog      = quietLog
)

// Uploads returns the uploads the store holds, by id.
func (s *memStore) Uploads() map[string]Upload { return s.uploads }
