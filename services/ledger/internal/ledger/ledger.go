package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// Loaded is an account's current state and how many items were read to rebuild it.
type Loaded struct {
	Account Account
	// ItemsRead counts the snapshot and event items the store returned: the cost of a read.
	ItemsRead int
}

// Receipt records that a command with an Idempotency-Key was applied, and what it answered. It is
// written in the same transaction as the command's event.
type Receipt struct {
	ID          string    `dynamodbav:"id"`
	Fingerprint string    `dynamodbav:"fingerprint"`
	Account     Account   `dynamodbav:"account"`
	ExpiresAt   time.Time `dynamodbav:"expiresAt,unixtime"`
}

// Append is one write: the next event, with a snapshot of the state after it when one is due,
// and the command's receipt when it has an Idempotency-Key. All of it is written or none.
type Append struct {
	Event    Event
	Snapshot *Account
	Receipt  *Receipt
	// Token identifies this one write (a transaction's ClientRequestToken): the same across
	// the SDK's retries of it, different for every new attempt of the command.
	Token string
}

// Store keeps events, snapshots and receipts (DynamoStore).
type Store interface {
	// Load returns the account rebuilt from its latest snapshot and the events after it;
	// ErrNotFound when it has no events.
	Load(ctx context.Context, accountID string) (Loaded, error)
	// Append writes a; ErrVersionConflict when a.Event's version exists with another command's
	// event, ErrDuplicateCommand when a.Receipt's id exists. A version that exists with an event
	// of a.Event.CommandID is this write, applied by an earlier try: success.
	Append(ctx context.Context, a Append) error
	// Receipt returns the unexpired receipt with id, if any.
	Receipt(ctx context.Context, id string, now time.Time) (Receipt, bool, error)
	// Events returns up to limit events with versions after after, oldest first.
	Events(ctx context.Context, accountID string, after int64, limit int) ([]Event, error)
	// Owner returns who opened the account; ErrNotFound when nobody did.
	Owner(ctx context.Context, accountID string) (string, error)
}

// Request is what a command carries besides its arguments.
type Request struct {
	// IdempotencyKey, when set, makes a retry of the command answer what the first attempt did.
	IdempotencyKey string
	// Fingerprint identifies the command, so that reusing a key for another command is caught.
	Fingerprint string
	// IfMatch, when non-zero, is the version the caller expects: the command fails with
	// ErrPreconditionFailed instead of applying to a later version.
	IfMatch       int64
	CorrelationID string
	DebugSampled  bool
}

// Result is what a command answers.
type Result struct {
	Account Account
	// Replayed is true when the answer is an earlier attempt's, from its receipt.
	Replayed bool
}

// Ledger runs commands against accounts. Its zero value is not usable: set Store, NewID, Now,
// Backoff and Sleep (see cmd/move-money for production values).
//
// Every command gets an ID from NewID, stored on its event: when the SDK retries a write that
// DynamoDB applied but whose answer was lost, the retry finds the version taken by the
// command's own event, and the store reports success instead of a lost race. Without it, Move
// would re-read, see the account moved by itself, decide again and append a second event.
type Ledger struct {
	Store Store
	// SnapshotEvery writes a snapshot with every SnapshotEvery-th event; 0 turns snapshots off.
	SnapshotEvery int64
	// MaxAttempts bounds the appends a command without If-Match makes when it keeps losing races.
	MaxAttempts int
	// Backoff returns how long to wait before attempt n+1 after n lost races; it should be jittered
	// so that the losers of one race do not collide again.
	Backoff func(n int) time.Duration
	// Sleep waits d or until ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// ReceiptTTL is how long a retry with the same Idempotency-Key gets the first answer.
	ReceiptTTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// NewID returns a new random ID for an account or a command: at most 32 characters of
	// [A-Za-z0-9] (crypto/rand.Text's 26 in production), so a write token fits in 36.
	NewID func() string
	// Metrics counts appends, lost races, retries and the items read per rebuild; nil records nothing.
	Metrics Metrics
}

// Open opens an account owned by owner.
func (l Ledger) Open(ctx context.Context, owner string, req Request) (Result, error) {
	receiptID := l.receiptID(owner, req)
	if r, ok, err := l.replay(ctx, receiptID, req); ok || err != nil {
		return r, err
	}
	now := clock.Now(l.Now)
	e := Event{AccountID: l.NewID(), Version: 1, Type: Opened, At: now.UTC(), Owner: owner,
		CorrelationID: req.CorrelationID, DebugSampled: req.DebugSampled, CommandID: l.NewID(), BalanceAfter: new(int64(0))}
	acct, err := Account{}.Apply(e)
	if err != nil {
		return Result{}, err
	}
	err = l.Store.Append(ctx, l.write(e, acct, receiptID, req, now, 1))
	if errors.Is(err, ErrDuplicateCommand) {
		return l.replayAfterRace(ctx, receiptID, req)
	}
	if err != nil {
		return Result{}, fmt.Errorf("open account: %w", err)
	}
	add(l.Metrics, MetricEventsAppended, 1)
	return Result{Account: acct}, nil
}

// Move deposits or withdraws amount (validated by the caller: positive, within limits). On a lost
// race it re-reads, re-decides and retries, up to MaxAttempts, unless req pins the version.
func (l Ledger) Move(ctx context.Context, owner, accountID string, kind EventType, amount int64, req Request) (Result, error) {
	receiptID := l.receiptID(owner, req)
	// One ID for the whole command, made before the first attempt: every event an attempt
	// writes carries it, so the store can tell its own applied write from another writer's.
	commandID := l.NewID()
	for attempt := 1; ; attempt++ {
		acct, err := l.Get(ctx, owner, accountID)
		if err != nil {
			return Result{}, err
		}
		// The receipt is read after the state: a receipt is committed with its event, so a state
		// that includes the first attempt's effect comes with a receipt this read will find.
		// Checked before, a retry racing the first attempt could see the effect but no receipt
		// and decide again (and refuse for insufficient funds, say).
		if r, ok, err := l.replay(ctx, receiptID, req); ok || err != nil {
			return r, err
		}
		if req.IfMatch != 0 && acct.Version != req.IfMatch {
			return Result{}, fmt.Errorf("account %s is at version %d, not %d: %w", accountID, acct.Version, req.IfMatch, ErrPreconditionFailed)
		}
		now := clock.Now(l.Now)
		e, next, err := acct.Decide(kind, amount, now)
		if err != nil {
			return Result{}, fmt.Errorf("%s %d on account %s: %w", kind, amount, accountID, err)
		}
		e.CorrelationID, e.DebugSampled, e.CommandID = req.CorrelationID, req.DebugSampled, commandID
		err = l.Store.Append(ctx, l.write(e, next, receiptID, req, now, attempt))
		switch {
		case err == nil:
			add(l.Metrics, MetricEventsAppended, 1)
			return Result{Account: next}, nil
		case errors.Is(err, ErrDuplicateCommand):
			return l.replayAfterRace(ctx, receiptID, req)
		case !errors.Is(err, ErrVersionConflict):
			return Result{}, fmt.Errorf("append version %d to account %s: %w", e.Version, accountID, err)
		}
		add(l.Metrics, MetricAppendConflicts, 1)
		switch {
		case req.IfMatch != 0:
			return Result{}, fmt.Errorf("account %s moved past version %d: %w", accountID, req.IfMatch, ErrPreconditionFailed)
		case attempt >= l.MaxAttempts:
			return Result{}, fmt.Errorf("append to account %s after %d attempts: %w", accountID, attempt, ErrConflict)
		}
		if err := l.Sleep(ctx, l.Backoff(attempt)); err != nil {
			return Result{}, fmt.Errorf("wait to retry account %s: %w", accountID, err)
		}
		add(l.Metrics, MetricAppendRetries, 1)
	}
}

// Get returns owner's account; ErrNotFound for an unknown account or someone else's.
func (l Ledger) Get(ctx context.Context, owner, accountID string) (Account, error) {
	loaded, err := l.Store.Load(ctx, accountID)
	if err != nil {
		return Account{}, err
	}
	add(l.Metrics, MetricItemsReadPerRebuild, float64(loaded.ItemsRead))
	if loaded.Account.Owner != owner {
		return Account{}, ErrNotFound
	}
	return loaded.Account, nil
}

// History returns up to limit of owner's account events after version after, and whether more follow.
func (l Ledger) History(ctx context.Context, owner, accountID string, after int64, limit int) ([]Event, bool, error) {
	got, err := l.Store.Owner(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	if got != owner {
		return nil, false, ErrNotFound
	}
	events, err := l.Store.Events(ctx, accountID, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	events, more := trimPage(events, limit)
	return events, more, nil
}

// write builds the Append for event e leading to state next, the command's attempt-th write.
// The token is per attempt, not per command: DynamoDB refuses a token reused with other
// parameters (IdempotentParameterMismatch), and a new attempt writes another version.
func (l Ledger) write(e Event, next Account, receiptID string, req Request, now time.Time, attempt int) Append {
	a := Append{Event: e, Token: e.CommandID + "-" + strconv.Itoa(attempt)}
	if l.SnapshotEvery > 0 && next.Version%l.SnapshotEvery == 0 {
		a.Snapshot = &next
	}
	if receiptID != "" {
		a.Receipt = &Receipt{ID: receiptID, Fingerprint: req.Fingerprint, Account: next, ExpiresAt: now.Add(l.ReceiptTTL)}
	}
	return a
}

// receiptID scopes the key by caller, so two callers who pick the same key never share a receipt.
func (l Ledger) receiptID(owner string, req Request) string {
	if req.IdempotencyKey == "" {
		return ""
	}
	return "ledger/" + owner + "/" + req.IdempotencyKey
}

// replay answers from an existing receipt; ok is false when there is none to answer from.
func (l Ledger) replay(ctx context.Context, receiptID string, req Request) (Result, bool, error) {
	if receiptID == "" {
		return Result{}, false, nil
	}
	r, ok, err := l.Store.Receipt(ctx, receiptID, clock.Now(l.Now))
	if err != nil || !ok {
		return Result{}, false, err
	}
	if r.Fingerprint != req.Fingerprint {
		return Result{}, false, ErrKeyReused
	}
	return Result{Account: r.Account, Replayed: true}, true, nil
}

// replayAfterRace answers a command whose receipt appeared while it ran (a concurrent retry won).
func (l Ledger) replayAfterRace(ctx context.Context, receiptID string, req Request) (Result, error) {
	r, ok, err := l.replay(ctx, receiptID, req)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, fmt.Errorf("receipt %s: %w but not found", receiptID, ErrDuplicateCommand)
	}
	return r, nil
}

// JitteredBackoff returns a Backoff that waits a random time between 0 and base·2ⁿ⁻¹, capped at
// limit ("full jitter"): the losers of one race spread out instead of colliding again. rand
// returns a number in [0, n); math/rand/v2's Int64N in production, a fixed function in tests.
func JitteredBackoff(base, limit time.Duration, rand func(n int64) int64) func(n int) time.Duration {
	return func(n int) time.Duration {
		ceiling := min(base<<min(n-1, 20), limit)
		if ceiling <= 0 {
			return 0
		}
		return time.Duration(rand(int64(ceiling)))
	}
}

// SleepContext waits d or until ctx ends, whichever is first.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
