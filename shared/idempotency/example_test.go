package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/idempotency"
)

// An SQS consumer that debits an account once per message, however often
// the message is delivered. (Compiled, not run: it needs a table.)
func ExampleStore_Do() {
	var client *dynamodb.Client // built once in main
	// Each call ends a second before the invocation would: time to report the record as failed.
	calls := budget.Calls{Budget: budget.Budget{Margin: time.Second}}
	store := idempotency.New(client, "IdempotencyTable", idempotency.WithCalls(calls))

	handle := func(ctx context.Context, msg events.SQSMessage) error {
		// 15 minutes: longer than the consumer's timeout, so an expired
		// claim always belongs to an attempt Lambda has stopped.
		_, err := store.Do(ctx, msg.MessageId, idempotency.Fingerprint([]byte(msg.Body)), 15*time.Minute,
			func(ctx context.Context) ([]byte, error) {
				return nil, debit(ctx, msg.Body)
			})
		// An error fails this record, ErrInProgress included (another
		// delivery is working on it): SQS brings it back after the
		// visibility timeout, by when the other delivery has finished.
		return err
	}
	_ = handle
}

func debit(ctx context.Context, body string) error { return nil }

// Begin, Complete and Release give a handler control over each step, for
// example to answer an HTTP retry with the first response.
func ExampleStore_Begin() {
	var client *dynamodb.Client
	store := idempotency.New(client, "IdempotencyTable")
	ctx := context.Background()

	rec, err := store.Begin(ctx, "idempotency-key-from-header", idempotency.Fingerprint([]byte(`{"amount":5}`)), time.Minute)
	switch {
	case errors.Is(err, idempotency.ErrInProgress):
		fmt.Println("409 Conflict, Retry-After: 1")
	case errors.Is(err, idempotency.ErrFingerprintMismatch):
		fmt.Println("422 key reused for another request")
	case err != nil:
		fmt.Println("500")
	case rec.Completed:
		fmt.Printf("replay the first response: %s\n", rec.Result)
	default:
		response := []byte(`{"jobId":"j1"}`) // do the work
		if err := store.Complete(ctx, "idempotency-key-from-header", response); err != nil {
			fmt.Println("500")
		}
	}
}
