package ledger

import (
	"errors"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func opened(id, owner string) Event {
	return Event{AccountID: id, Version: 1, Type: Opened, Owner: owner, At: t0}
}

func TestApply(t *testing.T) {
	open := Account{ID: "a1", Owner: "alice", Balance: 100, Version: 3}
	tests := []struct {
		name    string
		from    Account
		event   Event
		want    Account
		wantErr error
	}{
		{"open", Account{}, opened("a1", "alice"), Account{ID: "a1", Owner: "alice", Version: 1}, nil},
		{"deposit", open, Event{Version: 4, Type: Deposited, Amount: 50}, Account{ID: "a1", Owner: "alice", Balance: 150, Version: 4}, nil},
		{"withdraw all", open, Event{Version: 4, Type: Withdrawn, Amount: 100}, Account{ID: "a1", Owner: "alice", Balance: 0, Version: 4}, nil},
		{"overdraft in history", open, Event{Version: 4, Type: Withdrawn, Amount: 101}, open, ErrCorruptHistory},
		{"gap", open, Event{Version: 5, Type: Deposited, Amount: 1}, open, ErrCorruptHistory},
		{"repeat", open, Event{Version: 3, Type: Deposited, Amount: 1}, open, ErrCorruptHistory},
		{"opened twice", Account{ID: "a1", Version: 1}, Event{Version: 2, Type: Opened}, Account{ID: "a1", Version: 1}, ErrCorruptHistory},
		{"unknown type", open, Event{Version: 4, Type: "Frozen"}, open, ErrCorruptHistory},
		{"zero deposit", open, Event{Version: 4, Type: Deposited}, open, ErrCorruptHistory},
		{"balance after as recorded", open, Event{Version: 4, Type: Deposited, Amount: 50, BalanceAfter: new(int64(150))}, Account{ID: "a1", Owner: "alice", Balance: 150, Version: 4}, nil},
		{"balance after not as recorded", open, Event{Version: 4, Type: Deposited, Amount: 50, BalanceAfter: new(int64(149))}, open, ErrCorruptHistory},
		{"overflowing deposit", Account{Balance: math.MaxInt64 - 1, Version: 1}, Event{Version: 2, Type: Deposited, Amount: 2}, Account{Balance: math.MaxInt64 - 1, Version: 1}, ErrCorruptHistory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.from.Apply(tt.event)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Apply() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	acct := Account{ID: "a1", Owner: "alice", Balance: 100, Version: 7}
	tests := []struct {
		name        string
		from        Account
		kind        EventType
		amount      int64
		wantBalance int64
		wantErr     error
	}{
		{"deposit", acct, Deposited, 1, 101, nil},
		{"withdraw part", acct, Withdrawn, 99, 1, nil},
		{"withdraw all", acct, Withdrawn, 100, 0, nil},
		{"overdraft", acct, Withdrawn, 101, 100, ErrInsufficientFunds},
		{"overflow", Account{ID: "a1", Balance: math.MaxInt64, Version: 2}, Deposited, 1, math.MaxInt64, ErrBalanceLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, next, err := tt.from.Decide(tt.kind, tt.amount, t0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if next.Balance != tt.wantBalance {
				t.Errorf("balance = %d, want %d", next.Balance, tt.wantBalance)
			}
			if err != nil {
				if next != tt.from {
					t.Errorf("refused command changed the state to %+v", next)
				}
				return
			}
			if e.BalanceAfter == nil || *e.BalanceAfter != tt.wantBalance {
				t.Errorf("event's balance after = %v, want %d", e.BalanceAfter, tt.wantBalance)
			}
			e.BalanceAfter = nil // compared above; == would compare the pointer
			want := Event{AccountID: "a1", Version: tt.from.Version + 1, Type: tt.kind, Amount: tt.amount, At: t0, Owner: tt.from.Owner}
			if e != want || next.Version != want.Version {
				t.Errorf("Decide() = %+v, %+v; want event %+v at version %d", e, next, want, want.Version)
			}
		})
	}
}

func TestJitteredBackoff(t *testing.T) {
	var ceilings []int64
	backoff := JitteredBackoff(10*time.Millisecond, 50*time.Millisecond, func(n int64) int64 {
		ceilings = append(ceilings, n)
		return n - 1 // the largest the jitter may pick
	})
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, backoff(n))
	}
	want := []time.Duration{10*time.Millisecond - 1, 20*time.Millisecond - 1, 40*time.Millisecond - 1, 50*time.Millisecond - 1, 50*time.Millisecond - 1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("backoff(%d) = %v, want %v (ceilings %v)", i+1, got[i], want[i], ceilings)
		}
	}
}
