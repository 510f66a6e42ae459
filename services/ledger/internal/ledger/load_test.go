package ledger

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// roundTripDB measures how many round trips of latency a read takes: every Query is answered
// after latency, and a Query's depth is one more than the deepest Query that had ended before
// it began. Queries made at once share a depth, so concurrent calls count as one round trip;
// a Query that needed another's answer comes after it and counts one more.
type roundTripDB struct {
	DynamoDBAPI
	latency time.Duration
	mu      sync.Mutex
	ended   int // the deepest depth of the Queries that have ended
	queries int
}

func (r *roundTripDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.mu.Lock()
	depth := r.ended + 1
	r.queries++
	r.mu.Unlock()
	time.Sleep(r.latency)
	out, err := r.DynamoDBAPI.Query(ctx, in, optFns...)
	r.mu.Lock()
	r.ended = max(r.ended, depth)
	r.mu.Unlock()
	return out, err
}

// reset returns the round trips and Queries made since the last reset.
func (r *roundTripDB) reset() (roundTrips, queries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	roundTrips, queries = r.ended, r.queries
	r.ended, r.queries = 0, 0
	return roundTrips, queries
}

// TestLoadRoundTrips: the common path (a snapshot and fewer than SNAPSHOT_EVERY events since it,
// or a history shorter than that) is one round trip, whatever the history; a gap between the
// snapshot and the newest events read (more events since it than Tail) costs one more, and the
// state is the replay of every event either way.
func TestLoadRoundTrips(t *testing.T) {
	store, db := newDynamoStore(t)
	// 50 ms a Query: two Queries that began together end together, even on a loaded machine.
	rt := &roundTripDB{DynamoDBAPI: db, latency: 50 * time.Millisecond}
	measured := store
	measured.DB = rt
	tests := []struct {
		events        int
		snapshotEvery int64
		roundTrips    int
		items         int
	}{
		{1, 10, 1, 1},         // opened, no snapshot yet
		{9, 10, 1, 9},         // no snapshot yet, the whole history in the newest 9
		{10, 10, 1, 10},       // snapshot at 10 (and 9 events at or before it, dropped)
		{11, 10, 1, 10},       // snapshot at 10 and event 11
		{19, 10, 1, 10},       // snapshot at 10 and events 11..19: the most a snapshot is behind
		{1_000, 10, 1, 10},    // as for 10: the history before the snapshot is never read
		{35, 20, 2, 1 + 15},   // snapshot at 20, 15 events since: 9 newest, then the gap 21..26
		{25, 0, 2, 25},        // snapshots off: the 9 newest, then the 16 before them
		{9_999, 10, 1, 1 + 9}, // snapshot at 9,990 and 9 events since
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d events, snapshot every %d", tt.events, tt.snapshotEvery), func(t *testing.T) {
			id := fmt.Sprintf("rt-%d-%d", tt.events, tt.snapshotEvery)
			seedAccount(t, store, db.Client, id, tt.events, tt.snapshotEvery)
			rt.reset()
			db.reset()
			loaded, err := measured.Load(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			roundTrips, queries := rt.reset()
			if roundTrips != tt.roundTrips {
				t.Errorf("round trips = %d (%d Queries), want %d", roundTrips, queries, tt.roundTrips)
			}
			if got := db.reset(); loaded.ItemsRead != tt.items || got != tt.items {
				t.Errorf("items read = %d (reported %d), want %d", got, loaded.ItemsRead, tt.items)
			}
			want := Account{ID: id, Owner: "alice", Balance: int64(tt.events - 1), Version: int64(tt.events)}
			if loaded.Account != want {
				t.Errorf("account = %+v, want %+v", loaded.Account, want)
			}
		})
	}
}

// TestLoadKeepsASnapshotNewerThanTheEventsRead: the two Queries run at once, so an append with a
// snapshot can land between them; a snapshot newer than every event read is the state (it is
// written only with its event), and the older events are not applied to it again.
func TestLoadKeepsASnapshotNewerThanTheEventsRead(t *testing.T) {
	store, db := newDynamoStore(t)
	ctx := context.Background()
	const id = "raced"
	seedAccount(t, store, db.Client, id, 19, 10) // events 1..19, snapshot at 10
	// The snapshot at 20 as the snapshot Query would see it if event 20 and its snapshot were
	// appended after the events Query had read 11..19.
	snap, err := attributevalue.MarshalMap(Account{ID: id, Owner: "alice", Balance: 19, Version: 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &store.SnapshotsTable, Item: snap}); err != nil {
		t.Fatal(err)
	}
	loaded, err := store.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Account{ID: id, Owner: "alice", Balance: 19, Version: 20}); loaded.Account != want {
		t.Errorf("account = %+v, want the snapshot %+v", loaded.Account, want)
	}
}
