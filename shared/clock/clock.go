// Package clock lets a struct's clock be left unset. Wherever time decides behaviour (expiry,
// deadlines, TTL) a struct takes a Now func() time.Time field so tests can inject time; its zero
// value must still work, so code reads the field through Now, never by calling it directly.
package clock

import "time"

// Now returns now(), or time.Now() when now is nil.
func Now(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}
