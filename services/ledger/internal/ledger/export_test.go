package ledger

// What the tests in package ledger_test (which wire the projection with snstopic.Publisher) need
// from the tests of package ledger.
var (
	T0           = t0
	OpenedEvent  = opened
	NewReadModel = newReadModel
)
