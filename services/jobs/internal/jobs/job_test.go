package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/invalid"
)

func TestInputValidate(t *testing.T) {
	tests := []struct {
		name      string
		in        Input
		wantField string
		wantOut   Outcome
	}{
		{name: "minimal gets default outcome", in: Input{Task: "resize"}, wantOut: OutcomeSucceed},
		{name: "explicit outcome kept", in: Input{Task: "resize", Outcome: OutcomePoison}, wantOut: OutcomePoison},
		{name: "longest duration", in: Input{Task: "t", DurationMS: 20000}, wantOut: OutcomeSucceed},
		{name: "missing task", in: Input{}, wantField: "task"},
		{name: "task too long", in: Input{Task: strings.Repeat("é", MaxTaskLength+1)}, wantField: "task"},
		{name: "task of max runes", in: Input{Task: strings.Repeat("é", MaxTaskLength)}, wantOut: OutcomeSucceed},
		{name: "negative duration", in: Input{Task: "t", DurationMS: -1}, wantField: "durationMs"},
		{name: "duration too long", in: Input{Task: "t", DurationMS: 20001}, wantField: "durationMs"},
		// As nanoseconds these wrap past int64: to -8 s, and to exactly 1 s.
		{name: "duration that wraps negative", in: Input{Task: "t", DurationMS: 9223372036855}, wantField: "durationMs"},
		{name: "duration that wraps into range", in: Input{Task: "t", DurationMS: 1<<58 + 1000}, wantField: "durationMs"},
		{name: "unknown outcome", in: Input{Task: "t", Outcome: "explode"}, wantField: "outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Validate()
			var bad *invalid.Param
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				if in.Outcome != tt.wantOut {
					t.Errorf("Outcome = %q; want %q", in.Outcome, tt.wantOut)
				}
				return
			}
			if !errors.As(err, &bad) || bad.Name != tt.wantField {
				t.Fatalf("Validate() = %v; want an *invalid.Param for %q", err, tt.wantField)
			}
		})
	}
}

func TestPastDeadline(t *testing.T) {
	deadline := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		status Status
		now    time.Time
		want   bool
	}{
		{StatusPending, deadline.Add(-time.Second), false},
		{StatusPending, deadline.Add(time.Second), true},
		{StatusRunning, deadline.Add(time.Second), true},
		{StatusSucceeded, deadline.Add(time.Hour), false},
		{StatusFailed, deadline.Add(time.Hour), false},
	}
	for _, tt := range tests {
		job := Job{Status: tt.status, Deadline: deadline}
		if got := job.PastDeadline(tt.now); got != tt.want {
			t.Errorf("%s job at deadline%+v: PastDeadline = %v; want %v", tt.status, tt.now.Sub(deadline), got, tt.want)
		}
	}
}

func TestIDs(t *testing.T) {
	if a, b := NewID(), NewID(); a == b || !validID(a) || !validID(b) {
		t.Errorf("NewID() gave %q and %q; want two different valid ids", a, b)
	}
	a := IDForRequest("alice", "key-1")
	if !validID(a) {
		t.Errorf("IDForRequest = %q; want a valid id", a)
	}
	if a != IDForRequest("alice", "key-1") {
		t.Error("IDForRequest is not deterministic")
	}
	if a == IDForRequest("bob", "key-1") {
		t.Error("two owners with the same key got the same job id")
	}
	if IDForRequest("alice", "bkey") == IDForRequest("aliceb", "key") {
		t.Error("owner and key are not separated in the derivation")
	}
}
