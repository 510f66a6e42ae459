// Package ledger is the domain of the event-sourcing pattern: a bank account is the sequence of
// its events (opened, deposited, withdrawn), never a row updated in place.
//
// The rules live in [Account.Decide] (what a command may do given the state) and [Account.Apply]
// (how an event changes the state); both are pure. [Ledger] runs a command: it loads the state
// (the latest snapshot plus the events after it), decides, and appends the next event with a
// conditional write, so that two writers can never both write version v+1 (optimistic
// locking). A lost race is re-read, re-decided and retried, unless the caller pinned the
// version with If-Match.
//
// Every SnapshotEvery-th event is written in the same transaction as a snapshot of the state at
// that version, so loading an account reads at most SnapshotEvery items whatever its history.
// A command with an Idempotency-Key writes its receipt in that same transaction: the event and
// the record that it happened cannot be separated, so a retry never appends twice.
//
// The DynamoDB adapter ([DynamoStore]) and the projection's read model ([ReadModel]) sit next to
// the rules and are consumed through small interfaces. The projection's SNS publisher is package
// snstopic, next to this one, so that only the function that publishes links the SNS SDK.
package ledger
