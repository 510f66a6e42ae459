package ledger

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkGetAccount measures GET /accounts/{id}'s read (Ledger.Get: latest snapshot plus the
// events after it) against DynamoDB Local, for histories of 10, 1,000 and 10,000 events, with a
// snapshot every 10 events and with snapshots off. It reports items read and read capacity
// units consumed per GET (strongly consistent: one unit per 4 KB a Query returns, rounded up):
// with snapshots both stay at most 10 items and 2 units whatever the history; without, the
// items are the whole history.
//
//	go test -run '^$' -bench GetAccount ./internal/ledger/
func BenchmarkGetAccount(b *testing.B) {
	store, db := newDynamoStore(b)
	l := Ledger{Store: store}
	ctx := context.Background()
	for _, events := range []int{10, 1_000, 10_000} {
		for _, every := range []int64{10, 0} {
			id := fmt.Sprintf("bench-%d-%d", events, every)
			seedAccount(b, store, db.Client, id, events, every)
			name := fmt.Sprintf("events=%d/snapshots=off", events)
			if every > 0 {
				name = fmt.Sprintf("events=%d/snapshots=every-%d", events, every)
			}
			b.Run(name, func(b *testing.B) {
				db.reset()
				for b.Loop() {
					if _, err := l.Get(ctx, "alice", id); err != nil {
						b.Fatal(err)
					}
				}
				items, units := db.resetAll()
				b.ReportMetric(float64(items)/float64(b.N), "items/op")
				b.ReportMetric(units/float64(b.N), "RCU/op")
			})
		}
	}
}
