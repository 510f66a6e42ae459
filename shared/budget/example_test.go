package budget_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/budget"
)

func Example() {
	// Lambda gives the handler a context with the invocation's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	b := budget.Budget{Margin: 2 * time.Second}
	activity := budget.Watch(ctx, slog.Default(), b)
	defer activity.Stop()

	for page := 1; page <= 3; page++ {
		// Hand unstarted pages back instead of being killed in one.
		if !b.Fits(ctx, time.Second) {
			fmt.Println("continue later from page", page)
			return
		}
		activity.Doing(fmt.Sprintf("import page %d", page))

		callCtx, cancelCall := b.Context(ctx, 3*time.Second)
		_ = callCtx // pass to the SDK call for this page
		cancelCall()
	}
	fmt.Println("all pages imported")
	// Output: all pages imported
}

// An adapter keeps a Calls that main sets once, and bounds every SDK call
// it makes with it.
func ExampleCalls() {
	// Lambda gives the handler a context with the invocation's deadline:
	// here 1 s is left.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	// In main: every call ends half a second before the invocation would,
	// leaving time to answer 500 instead of being killed.
	calls := budget.Calls{Budget: budget.Budget{Margin: 500 * time.Millisecond}}

	// In the adapter, around each call:
	callCtx, cancelCall := calls.Context(ctx)
	defer cancelCall()
	deadline, _ := callCtx.Deadline()
	// The margin ends the call before DefaultCallTimeout would.
	fmt.Println("call ends with the margin left:", time.Until(deadline) <= 500*time.Millisecond)
	// Output: call ends with the margin left: true
}
