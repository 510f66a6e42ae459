package ledger

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors a command can end with, to check with errors.Is. The HTTP edge maps them to statuses.
var (
	// ErrNotFound means there is no such account, or it belongs to someone else
	// (indistinguishable on purpose: no existence leak).
	ErrNotFound = errors.New("account not found")
	// ErrInsufficientFunds means a withdrawal would make the balance negative; nothing was written.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrBalanceLimit means a deposit would overflow the balance; nothing was written.
	ErrBalanceLimit = errors.New("balance limit reached")
	// ErrPreconditionFailed means the caller's If-Match version is no longer the account's version.
	ErrPreconditionFailed = errors.New("account has moved on from the expected version")
	// ErrConflict means every attempt lost the race to append the next event.
	ErrConflict = errors.New("account is being changed concurrently")
	// ErrKeyReused means the Idempotency-Key was first used for a different command.
	ErrKeyReused = errors.New("idempotency key was used for a different command")
	// ErrVersionConflict is a store's answer when the version being appended already exists.
	ErrVersionConflict = errors.New("version already exists")
	// ErrDuplicateCommand is a store's answer when the command's receipt already exists.
	ErrDuplicateCommand = errors.New("command already applied")
	// ErrCorruptHistory means the stored events do not form a valid history (a gap, an unknown type).
	ErrCorruptHistory = errors.New("corrupt account history")
)

// EventType names what happened to an account.
type EventType string

// The events of an account's life.
const (
	Opened    EventType = "AccountOpened"
	Deposited EventType = "MoneyDeposited"
	Withdrawn EventType = "MoneyWithdrawn"
)

// Event is one immutable fact about an account, stored as one item keyed by account and version.
// Money is an integer count of minor units (cents), never a float.
type Event struct {
	AccountID string    `dynamodbav:"accountId" json:"accountId"`
	Version   int64     `dynamodbav:"version" json:"version"`
	Type      EventType `dynamodbav:"type" json:"type"`
	Amount    int64     `dynamodbav:"amount,omitempty" json:"amount,omitempty"`
	At        time.Time `dynamodbav:"at" json:"at"`
	// Owner is on every event, not only the first, so that the projection can key the owner's
	// read model from any one stream record.
	Owner string `dynamodbav:"owner" json:"-"`
	// CorrelationID and DebugSampled ride on the item so that the stream carries them on to the
	// projection and the domain events it publishes.
	CorrelationID string `dynamodbav:"correlationId,omitempty" json:"-"`
	DebugSampled  bool   `dynamodbav:"debugSampled,omitempty" json:"-"`
	// CommandID names the command that appended the event, so that a write which was applied
	// but whose answer was lost (and was retried) is recognised as the command's own, not as a
	// lost race to decide again.
	CommandID string `dynamodbav:"commandId,omitempty" json:"-"`
	// BalanceAfter is the balance once the event is applied, so that the projection can set
	// the read model to it from this one event, whatever it missed before. Nil only on events
	// written before the field existed.
	BalanceAfter *int64 `dynamodbav:"balanceAfter,omitempty" json:"-"`
}

// Account is the state an account's events fold into. A snapshot stores exactly this.
type Account struct {
	ID      string `dynamodbav:"accountId" json:"accountId"`
	Owner   string `dynamodbav:"owner" json:"-"`
	Balance int64  `dynamodbav:"balance" json:"balance"`
	// Version is the version of the last event applied; 0 for an account not opened yet.
	Version int64 `dynamodbav:"version" json:"version"`
}

// Apply returns the state after e. It rejects an event that does not follow the state (a gap or
// a repeat in versions, an unknown type, an overdraft): stored history is never silently skipped.
func (a Account) Apply(e Event) (Account, error) {
	before := a
	if e.Version != a.Version+1 {
		return a, fmt.Errorf("%w: account %s at version %d cannot apply version %d", ErrCorruptHistory, a.ID, a.Version, e.Version)
	}
	switch e.Type {
	case Opened:
		if a.Version != 0 {
			return a, fmt.Errorf("%w: account %s opened twice", ErrCorruptHistory, a.ID)
		}
		a.ID, a.Owner = e.AccountID, e.Owner
	case Deposited:
		if e.Amount <= 0 || a.Balance > math.MaxInt64-e.Amount {
			return a, fmt.Errorf("%w: account %s version %d deposits %d", ErrCorruptHistory, a.ID, e.Version, e.Amount)
		}
		a.Balance += e.Amount
	case Withdrawn:
		if e.Amount <= 0 || e.Amount > a.Balance {
			return a, fmt.Errorf("%w: account %s version %d withdraws %d from %d", ErrCorruptHistory, a.ID, e.Version, e.Amount, a.Balance)
		}
		a.Balance -= e.Amount
	default:
		return a, fmt.Errorf("%w: account %s version %d has unknown type %q", ErrCorruptHistory, a.ID, e.Version, e.Type)
	}
	if e.BalanceAfter != nil && *e.BalanceAfter != a.Balance {
		return before, fmt.Errorf("%w: account %s version %d says balance %d, events say %d", ErrCorruptHistory, a.ID, e.Version, *e.BalanceAfter, a.Balance)
	}
	a.Version = e.Version
	return a, nil
}

// Replay folds events into a, in order.
func Replay(a Account, events []Event) (Account, error) {
	for _, e := range events {
		var err error
		if a, err = a.Apply(e); err != nil {
			return a, err
		}
	}
	return a, nil
}

// Decide returns the event a deposit or withdrawal of amount makes, and the state after it, or
// why the command is refused. It writes nothing; amount has been validated by the caller.
func (a Account) Decide(kind EventType, amount int64, at time.Time) (Event, Account, error) {
	switch {
	case kind == Withdrawn && amount > a.Balance:
		return Event{}, a, ErrInsufficientFunds
	case kind == Deposited && a.Balance > math.MaxInt64-amount:
		return Event{}, a, ErrBalanceLimit
	case kind != Withdrawn && kind != Deposited:
		return Event{}, a, fmt.Errorf("decide %q: not a command", kind)
	}
	e := Event{AccountID: a.ID, Version: a.Version + 1, Type: kind, Amount: amount, At: at.UTC(), Owner: a.Owner}
	next, err := a.Apply(e)
	if err != nil {
		return Event{}, a, err
	}
	e.BalanceAfter = new(next.Balance)
	return e, next, nil
}
