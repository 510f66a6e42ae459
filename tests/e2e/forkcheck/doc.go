// Package forkcheck checks that the end-to-end suite in the folder above comes apart by service,
// as a fork of one service (make fork) takes it: the harness and that service's <svc>_test.go,
// without the other services' files. For each service in services/, and for the harness with no
// service at all, it runs `go vet` (which type-checks the tests) on the e2e package with the
// other services' files taken out, so a service file that uses something only another service's
// file defines fails here, not in the fork.
//
// It is a package of its own, not a test in e2e, so that it runs in a second or two without the
// local stack e2e's TestMain starts; `go test ./e2e/...` (make e2e) runs both. The files are
// taken out with `go vet -overlay` rather than by copying the package elsewhere: the pruned
// package builds where it is, in the tests module with its go.mod and the workspace, which a
// copy would have to rebuild around it.
package forkcheck
