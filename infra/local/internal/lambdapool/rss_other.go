//go:build !linux

package lambdapool

// residentBytes always fails with errRSSUnsupported: without /proc, the memory limit is not
// enforced.
func residentBytes(int) (int64, error) {
	return 0, errRSSUnsupported
}
