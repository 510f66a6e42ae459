// Package idempotency makes a redelivered message or a retried request have
// one effect, using one DynamoDB item per idempotency key.
//
// SQS delivers at least once, Lambda retries failed asynchronous invokes, and
// clients retry requests whose answers they never saw. A handler that charges
// an account, appends a ledger entry or starts a job must therefore recognise
// the second arrival of the same work. It claims the key before doing the
// work ([Store.Begin]), records the result after ([Store.Complete]), and a
// later arrival gets the recorded result instead of doing the work again.
// [Store.Do] wraps the three steps.
//
// # Table
//
// One table per service, with partition key id (S) and TTL enabled on
// expiresAt. Each item holds:
//
//	id               S  the idempotency key
//	status           S  IN_PROGRESS or COMPLETED
//	fingerprint      S  what the key was first used for (see Begin)
//	claim            S  a random token of the Begin call that wrote the claim
//	result           B  the recorded result (absent when empty)
//	inProgressUntil  N  epoch milliseconds until which the claim holds
//	expiresAt        N  epoch seconds after which the record is forgotten
//
// DynamoDB's TTL deletes expired items within a few days of expiresAt, not
// at it, so the store treats an expired item as absent itself.
//
// # Choosing inProgressFor
//
// A claim whose inProgressUntil has passed belongs to an attempt that
// crashed or was stopped (a Lambda timeout kills a function without running
// any cleanup), and it is taken over by the next arrival. Without that,
// one crash would block the key until the record expired, a day later by
// default. Make inProgressFor longer than the function's timeout: then the
// attempt that owned an expired claim is certainly gone, no two attempts
// ever hold the key at once, and the Complete of the attempt holding the
// claim is the only one that can succeed.
//
// # Time
//
// Every DynamoDB call the store makes is bounded by a [budget.Calls]: its
// Timeout, and the invocation's deadline minus the margin. Set it once with
// [WithCalls] where the function is wired; the default, the zero
// budget.Calls, bounds each call by [budget.DefaultCallTimeout] and the
// context's own deadline.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

// Errors returned by Store methods, to check with errors.Is.
var (
	// ErrInProgress means another attempt holds the key and has not
	// finished. Answer 409 with Retry-After at the HTTP edge; fail the
	// SQS record so that it comes back after the visibility timeout.
	ErrInProgress = errors.New("idempotency key is in progress")
	// ErrFingerprintMismatch means the key was first used for a different
	// request: a client bug, answered with 422 and never retried.
	ErrFingerprintMismatch = errors.New("idempotency key was used for a different request")
	// ErrInvalidKey means the key is empty or longer than DynamoDB allows
	// for a partition key. Keys often come from clients (an
	// Idempotency-Key header), so this is a 400, not a 500.
	ErrInvalidKey = errors.New("idempotency key must be 1 to 2048 bytes")
	// ErrClaimLost means Complete found no in-progress claim to complete:
	// the record was released, expired, or completed by another attempt.
	ErrClaimLost = errors.New("idempotency claim lost")
)

// Record statuses as stored.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusCompleted  = "COMPLETED"
)

// DefaultTTL is how long a record is kept after it was last written, unless
// set with WithTTL. It must outlast every retry: SQS retention, a client's
// retry window, Lambda's async retries (up to 6 hours).
const DefaultTTL = 24 * time.Hour

// maxKeyBytes is DynamoDB's limit on a partition key value.
const maxKeyBytes = 2048

// releaseTimeout bounds Release after a failure in Do. The invocation's own
// context may already be done (the failure may be that it ran out of time),
// and a claim left behind blocks retries until inProgressUntil; so that one
// call runs on a context of its own, with this timeout and no margin.
const releaseTimeout = 2 * time.Second

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Store keeps idempotency records in one DynamoDB table. It is safe for
// concurrent use; build it once per cold start.
type Store struct {
	db    DynamoDB
	table string
	now   func() time.Time
	ttl   time.Duration
	calls budget.Calls
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides claim and record expiry.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithCalls sets what bounds each DynamoDB call: calls.Timeout, and the
// invocation's deadline minus calls.Budget.Margin. Pass the budget.Calls the
// function gives its other adapters.
func WithCalls(calls budget.Calls) Option {
	return func(s *Store) { s.calls = calls }
}

// WithTTL sets how long a record is kept after it was last written.
func WithTTL(ttl time.Duration) Option {
	return func(s *Store) { s.ttl = ttl }
}

// New returns a store for the named table.
func New(db DynamoDB, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table, now: time.Now, ttl: DefaultTTL}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Record is what Begin found for a key.
type Record struct {
	// Completed is true when the work was already done; Result is what it
	// recorded. When false, the caller holds the claim and must do the
	// work, then Complete or Release.
	Completed bool
	Result    []byte
}

// Fingerprint returns a digest of a request, to pass to Begin: the SHA-256
// of body, in hex. Fingerprint what decides the effect (the request body,
// the message body), not what varies between retries (timestamps, IDs
// added in transit).
func Fingerprint(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Begin claims key for inProgressFor, or reports why it cannot:
//
//	rec, err := store.Begin(ctx, key, fp, 15*time.Minute)
//	if err != nil {
//		return err // ErrInProgress, ErrFingerprintMismatch, ErrInvalidKey, or DynamoDB failing
//	}
//	if rec.Completed {
//		return rec.Result // done before: answer as the first time
//	}
//	// The claim is ours: do the work, then Complete (or Release on failure).
//
// The claim succeeds when no record exists, when the record has expired,
// or when it is an in-progress claim whose inProgressUntil has passed (see
// the package documentation for why that is safe). It also succeeds when
// the record in the way is this call's own claim: the SDK sends a request
// again when its answer was lost, and the first try's write had applied.
// The fingerprint guards against a key reused for a different request,
// which would otherwise be answered with the first request's result.
func (s *Store) Begin(ctx context.Context, key, fingerprint string, inProgressFor time.Duration) (Record, error) {
	if key == "" || len(key) > maxKeyBytes {
		return Record{}, fmt.Errorf("claim idempotency key: %w", ErrInvalidKey)
	}
	now := s.now()
	claim := rand.Text()
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"id":              &types.AttributeValueMemberS{Value: key},
			"status":          &types.AttributeValueMemberS{Value: StatusInProgress},
			"fingerprint":     &types.AttributeValueMemberS{Value: fingerprint},
			"claim":           &types.AttributeValueMemberS{Value: claim},
			"inProgressUntil": epochMillis(now.Add(inProgressFor)),
			"expiresAt":       epochSeconds(now.Add(s.ttl)),
		},
		ConditionExpression: aws.String("attribute_not_exists(id)" +
			" OR expiresAt < :nowSeconds" +
			" OR (#status = :inProgress AND inProgressUntil < :nowMillis)"),
		ExpressionAttributeNames: map[string]string{"#status": "status"}, // a reserved word
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inProgress": &types.AttributeValueMemberS{Value: StatusInProgress},
			":nowMillis":  epochMillis(now),
			":nowSeconds": epochSeconds(now),
		},
		// The existing item comes back with the failure: no second read,
		// and no race between the failed write and a read.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Record{}, nil
	}
	failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err)
	if !ok {
		return Record{}, fmt.Errorf("claim idempotency key %s: %w", key, err)
	}
	// The SDK sends a request again when its answer was lost (a reset connection, a 500 after
	// the write): then the claim in the way is this call's own, written by the first try.
	if stringAttr(failed.Item, "claim") == claim && stringAttr(failed.Item, "status") == StatusInProgress {
		return Record{}, nil
	}
	return existing(key, fingerprint, failed.Item)
}

// existing interprets the record that made Begin's claim fail.
func existing(key, fingerprint string, item map[string]types.AttributeValue) (Record, error) {
	if item == nil {
		return Record{}, fmt.Errorf("claim idempotency key %s: condition failed but no item returned", key)
	}
	if stringAttr(item, "fingerprint") != fingerprint {
		return Record{}, fmt.Errorf("claim idempotency key %s: %w", key, ErrFingerprintMismatch)
	}
	switch status := stringAttr(item, "status"); status {
	case StatusInProgress:
		return Record{}, fmt.Errorf("claim idempotency key %s: %w", key, ErrInProgress)
	case StatusCompleted:
		var result []byte
		if b, ok := item["result"].(*types.AttributeValueMemberB); ok {
			result = b.Value
		}
		return Record{Completed: true, Result: result}, nil
	default:
		return Record{}, fmt.Errorf("claim idempotency key %s: unknown status %q", key, status)
	}
}

// Complete records result for key and keeps it for the store's TTL from now.
// It succeeds only while the record is still IN_PROGRESS, which is this
// attempt's claim when inProgressFor outlasts the function timeout (see the
// package documentation); otherwise it returns ErrClaimLost and writes
// nothing.
func (s *Store) Complete(ctx context.Context, key string, result []byte) error {
	now := s.now()
	update := "SET #status = :completed, expiresAt = :expiresAt"
	names := map[string]string{"#status": "status"}
	values := map[string]types.AttributeValue{
		":completed":  &types.AttributeValueMemberS{Value: StatusCompleted},
		":inProgress": &types.AttributeValueMemberS{Value: StatusInProgress},
		":expiresAt":  epochSeconds(now.Add(s.ttl)),
	}
	if len(result) > 0 {
		update += ", #result = :result"
		names["#result"] = "result" // a reserved word
		values[":result"] = &types.AttributeValueMemberB{Value: result}
	}
	update += " REMOVE inProgressUntil"
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyAttr(key),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#status = :inProgress"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return fmt.Errorf("complete idempotency key %s: %w", key, ErrClaimLost)
	}
	if err != nil {
		return fmt.Errorf("complete idempotency key %s: %w", key, err)
	}
	return nil
}

// Release deletes the in-progress claim on key after the work failed, so
// that a retry can run at once instead of waiting for the claim to expire.
// It never deletes a completed record, and it is not an error when there is
// no claim left to release.
func (s *Store) Release(ctx context.Context, key string) error {
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	return s.release(ctx, key)
}

// release deletes the in-progress claim on key with ctx as it is: the caller bounds it.
func (s *Store) release(ctx context.Context, key string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyAttr(key),
		ConditionExpression:       aws.String("#status = :inProgress"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inProgress": &types.AttributeValueMemberS{Value: StatusInProgress}},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release idempotency key %s: %w", key, err)
	}
	return nil
}

// Do runs fn once per key: it claims key, runs fn, and records fn's result,
// or returns the result recorded by an earlier run. When fn fails, the claim
// is released so a retry can run, and fn's error is returned.
//
// When fn succeeds but its result cannot be recorded, Do returns the error:
// the effect happened, but a retry will run fn again once the claim expires.
// fn should therefore be safe to repeat (a conditional write, a
// deterministic ID); the store makes repeats rare, not impossible.
func (s *Store) Do(ctx context.Context, key, fingerprint string, inProgressFor time.Duration, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	rec, err := s.Begin(ctx, key, fingerprint, inProgressFor)
	if err != nil {
		return nil, err
	}
	if rec.Completed {
		return rec.Result, nil
	}

	result, err := fn(ctx)
	if err != nil {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if releaseErr := s.release(releaseCtx, key); releaseErr != nil {
			return nil, errors.Join(err, releaseErr)
		}
		return nil, err
	}
	if err := s.Complete(ctx, key, result); err != nil {
		return nil, err
	}
	return result, nil
}

func keyAttr(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func epochMillis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

func epochSeconds(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}
