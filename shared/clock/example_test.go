package clock_test

import (
	"fmt"
	"time"

	"github.com/go-serverless/reference/shared/clock"
)

// reader decides with the time; its zero value reads the system clock.
type reader struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (r reader) expired(at time.Time) bool { return clock.Now(r.Now).After(at) }

func Example() {
	fixed := func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) }
	fmt.Println(reader{Now: fixed}.expired(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)))
	fmt.Println(reader{}.expired(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)))
	// Output:
	// true
	// false
}
