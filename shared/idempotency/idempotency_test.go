package idempotency

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
)

// fakeDB answers each call with its function field and records the inputs.
type fakeDB struct {
	putItem    func(*dynamodb.PutItemInput) error
	updateItem func(*dynamodb.UpdateItemInput) error
	deleteItem func(*dynamodb.DeleteItemInput) error

	puts         []*dynamodb.PutItemInput
	updates      []*dynamodb.UpdateItemInput
	deletes      []*dynamodb.DeleteItemInput
	deleteCtxErr error // the context's error when DeleteItem was called
	// deadlines holds, per call in order, the deadline of its context (zero: none).
	deadlines []time.Time
}

func (f *fakeDB) called(ctx context.Context) {
	d, _ := ctx.Deadline()
	f.deadlines = append(f.deadlines, d)
}

func (f *fakeDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.called(ctx)
	f.puts = append(f.puts, in)
	if f.putItem == nil {
		return &dynamodb.PutItemOutput{}, nil
	}
	return &dynamodb.PutItemOutput{}, f.putItem(in)
}

func (f *fakeDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.called(ctx)
	f.updates = append(f.updates, in)
	if f.updateItem == nil {
		return &dynamodb.UpdateItemOutput{}, nil
	}
	return &dynamodb.UpdateItemOutput{}, f.updateItem(in)
}

func (f *fakeDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.called(ctx)
	f.deletes = append(f.deletes, in)
	f.deleteCtxErr = ctx.Err()
	if f.deleteItem == nil {
		return &dynamodb.DeleteItemOutput{}, nil
	}
	return &dynamodb.DeleteItemOutput{}, f.deleteItem(in)
}

var (
	epoch   = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	errDown = errors.New("service unavailable")
)

func clock() func() time.Time { return func() time.Time { return epoch } }

// conditionFailed returns the error DynamoDB gives when a condition fails
// and ALL_OLD was asked for.
func conditionFailed(item map[string]types.AttributeValue) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: item}
}

func item(status, fingerprint string, result []byte) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		"id":          &types.AttributeValueMemberS{Value: "k"},
		"status":      &types.AttributeValueMemberS{Value: status},
		"fingerprint": &types.AttributeValueMemberS{Value: fingerprint},
	}
	if result != nil {
		m["result"] = &types.AttributeValueMemberB{Value: result}
	}
	return m
}

func TestBeginWritesClaim(t *testing.T) {
	db := &fakeDB{}
	s := New(db, "idem", WithClock(clock()), WithTTL(time.Hour))
	rec, err := s.Begin(context.Background(), "k", "fp", time.Minute)
	if err != nil || rec.Completed {
		t.Fatalf("Begin() = %+v, %v, want a fresh claim", rec, err)
	}
	in := db.puts[0]
	// The claim token is random: present, then compared as the rest.
	claim, ok := in.Item["claim"].(*types.AttributeValueMemberS)
	if !ok || len(claim.Value) < 16 {
		t.Fatalf("claim = %v; want a random token", in.Item["claim"])
	}
	want := map[string]types.AttributeValue{
		"claim":           claim,
		"id":              &types.AttributeValueMemberS{Value: "k"},
		"status":          &types.AttributeValueMemberS{Value: "IN_PROGRESS"},
		"fingerprint":     &types.AttributeValueMemberS{Value: "fp"},
		"inProgressUntil": &types.AttributeValueMemberN{Value: "1772600827000"}, // epoch + 1 min, in ms
		"expiresAt":       &types.AttributeValueMemberN{Value: "1772604367"},    // epoch + 1 h, in s
	}
	if !reflect.DeepEqual(in.Item, want) {
		t.Errorf("Item = %v, want %v", in.Item, want)
	}
	if aws.ToString(in.TableName) != "idem" {
		t.Errorf("TableName = %q, want idem", aws.ToString(in.TableName))
	}
	if in.ConditionExpression == nil {
		t.Error("PutItem has no condition: it would overwrite a live claim")
	}
	if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", in.ReturnValuesOnConditionCheckFailure)
	}
}

func TestBeginExisting(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    Record
		wantErr error
	}{
		{"in progress", conditionFailed(item("IN_PROGRESS", "fp", nil)), Record{}, ErrInProgress},
		{"completed", conditionFailed(item("COMPLETED", "fp", []byte("r"))), Record{Completed: true, Result: []byte("r")}, nil},
		{"completed without result", conditionFailed(item("COMPLETED", "fp", nil)), Record{Completed: true}, nil},
		{"other request in progress", conditionFailed(item("IN_PROGRESS", "other", nil)), Record{}, ErrFingerprintMismatch},
		{"other request completed", conditionFailed(item("COMPLETED", "other", []byte("r"))), Record{}, ErrFingerprintMismatch},
		{"DynamoDB failing", errDown, Record{}, errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{putItem: func(*dynamodb.PutItemInput) error { return tt.err }}
			got, err := New(db, "idem").Begin(context.Background(), "k", "fp", time.Minute)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Begin() error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Begin() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBeginMalformedRecord(t *testing.T) {
	for name, err := range map[string]error{
		"no item":        conditionFailed(nil),
		"unknown status": conditionFailed(item("PAUSED", "fp", nil)),
	} {
		db := &fakeDB{putItem: func(*dynamodb.PutItemInput) error { return err }}
		rec, got := New(db, "idem").Begin(context.Background(), "k", "fp", time.Minute)
		if got == nil || rec.Completed {
			t.Errorf("%s: Begin() = %+v, %v, want an error", name, rec, got)
		}
	}
}

func TestBeginInvalidKey(t *testing.T) {
	for _, key := range []string{"", strings.Repeat("k", 2049)} {
		db := &fakeDB{}
		_, err := New(db, "idem").Begin(context.Background(), key, "fp", time.Minute)
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Begin(key of %d bytes) = %v, want ErrInvalidKey", len(key), err)
		}
		if len(db.puts) != 0 {
			t.Errorf("Begin(key of %d bytes) called PutItem", len(key))
		}
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name       string
		result     []byte
		err        error
		wantErr    error
		wantResult bool
	}{
		{"with result", []byte("r"), nil, nil, true},
		{"empty result", nil, nil, nil, false},
		{"claim lost", []byte("r"), conditionFailed(nil), ErrClaimLost, true},
		{"DynamoDB failing", []byte("r"), errDown, errDown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{updateItem: func(*dynamodb.UpdateItemInput) error { return tt.err }}
			err := New(db, "idem", WithClock(clock())).Complete(context.Background(), "k", tt.result)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Complete() = %v, want %v", err, tt.wantErr)
			}
			in := db.updates[0]
			if in.ConditionExpression == nil {
				t.Error("UpdateItem has no condition: it would complete a record it does not hold")
			}
			_, hasResult := in.ExpressionAttributeValues[":result"]
			if hasResult != tt.wantResult {
				t.Errorf("writes result = %v, want %v", hasResult, tt.wantResult)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"released", nil, nil},
		{"nothing to release", conditionFailed(nil), nil},
		{"DynamoDB failing", errDown, errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{deleteItem: func(*dynamodb.DeleteItemInput) error { return tt.err }}
			err := New(db, "idem").Release(context.Background(), "k")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Release() = %v, want %v", err, tt.wantErr)
			}
			if db.deletes[0].ConditionExpression == nil {
				t.Error("DeleteItem has no condition: it could delete a completed record")
			}
		})
	}
}

func TestDo(t *testing.T) {
	errWork := errors.New("charge card: declined")
	tests := []struct {
		name        string
		begin       error
		fnErr       error
		release     error
		complete    error
		want        []byte
		wantErr     []error
		wantRan     bool
		wantRelease bool
		wantUpdate  bool
	}{
		{name: "runs and completes", want: []byte("new"), wantRan: true, wantUpdate: true},
		{name: "already completed", begin: conditionFailed(item("COMPLETED", "fp", []byte("old"))), want: []byte("old")},
		{name: "in progress", begin: conditionFailed(item("IN_PROGRESS", "fp", nil)), wantErr: []error{ErrInProgress}},
		{name: "work fails", fnErr: errWork, wantErr: []error{errWork}, wantRan: true, wantRelease: true},
		{name: "work and release fail", fnErr: errWork, release: errDown, wantErr: []error{errWork, errDown}, wantRan: true, wantRelease: true},
		{name: "complete fails", complete: errDown, wantErr: []error{errDown}, wantRan: true, wantUpdate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{
				putItem:    func(*dynamodb.PutItemInput) error { return tt.begin },
				updateItem: func(*dynamodb.UpdateItemInput) error { return tt.complete },
				deleteItem: func(*dynamodb.DeleteItemInput) error { return tt.release },
			}
			ran := false
			got, err := New(db, "idem").Do(context.Background(), "k", "fp", time.Minute, func(context.Context) ([]byte, error) {
				ran = true
				return []byte("new"), tt.fnErr
			})
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Do() error = %v, want it to wrap %v", err, want)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("Do() error = %v, want nil", err)
			}
			if string(got) != string(tt.want) {
				t.Errorf("Do() = %q, want %q", got, tt.want)
			}
			if ran != tt.wantRan {
				t.Errorf("fn ran = %v, want %v", ran, tt.wantRan)
			}
			if got := len(db.deletes) > 0; got != tt.wantRelease {
				t.Errorf("released = %v, want %v", got, tt.wantRelease)
			}
			if got := len(db.updates) > 0; got != tt.wantUpdate {
				t.Errorf("completed = %v, want %v", got, tt.wantUpdate)
			}
		})
	}
}

func TestDoReleasesAfterContextEnds(t *testing.T) {
	db := &fakeDB{}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(db, "idem")
	_, err := s.Do(ctx, "k", "fp", time.Minute, func(ctx context.Context) ([]byte, error) {
		cancel() // the invocation runs out of time during the work
		return nil, ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do() = %v, want context.Canceled", err)
	}
	if len(db.deletes) != 1 || db.deleteCtxErr != nil {
		t.Errorf("Release calls = %d with context error %v, want 1 with a live context", len(db.deletes), db.deleteCtxErr)
	}
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint([]byte(`{"amount":5}`)), Fingerprint([]byte(`{"amount":6}`))
	if a == b {
		t.Error("different bodies have the same fingerprint")
	}
	if a != Fingerprint([]byte(`{"amount":5}`)) {
		t.Error("the same body has two fingerprints")
	}
	if len(a) != 64 {
		t.Errorf("len(Fingerprint) = %d, want 64 hex digits", len(a))
	}
}

// TestEveryCallIsBounded: each DynamoDB call the store makes gets a deadline (budget.Calls), so a
// call that hangs fails with time left to handle it instead of running until Lambda kills the
// invocation. With an invocation deadline, the call ends the margin WithCalls keeps before it.
func TestEveryCallIsBounded(t *testing.T) {
	errWork := errors.New("work failed")
	calls := []struct {
		name string
		call func(ctx context.Context, s *Store) error
	}{
		{"Begin", func(ctx context.Context, s *Store) error {
			_, err := s.Begin(ctx, "k", "fp", time.Minute)
			return err
		}},
		{"Complete", func(ctx context.Context, s *Store) error { return s.Complete(ctx, "k", []byte("r")) }},
		{"Release", func(ctx context.Context, s *Store) error { return s.Release(ctx, "k") }},
		{"Do", func(ctx context.Context, s *Store) error {
			_, err := s.Do(ctx, "k", "fp", time.Minute, func(context.Context) ([]byte, error) { return []byte("r"), nil })
			return err
		}},
		{"Do that fails and releases", func(ctx context.Context, s *Store) error {
			_, err := s.Do(ctx, "k", "fp", time.Minute, func(context.Context) ([]byte, error) { return nil, errWork })
			if errors.Is(err, errWork) {
				return nil
			}
			return err
		}},
	}
	const margin = 3 * time.Second
	for _, c := range calls {
		t.Run(c.name+" without a deadline", func(t *testing.T) {
			db := &fakeDB{}
			if err := c.call(context.Background(), New(db, "idem")); err != nil {
				t.Fatal(err)
			}
			for i, d := range db.deadlines {
				if d.IsZero() {
					t.Errorf("call %d of %d had no deadline; want every call bounded", i+1, len(db.deadlines))
				}
			}
		})
		t.Run(c.name+" within an invocation", func(t *testing.T) {
			db := &fakeDB{}
			invocation := time.Now().Add(time.Minute)
			ctx, cancel := context.WithDeadline(context.Background(), invocation)
			defer cancel()
			s := New(db, "idem", WithCalls(budget.Calls{Budget: budget.Budget{Margin: margin}, Timeout: time.Hour}))
			if err := c.call(ctx, s); err != nil {
				t.Fatal(err)
			}
			for i, d := range db.deadlines {
				if d.IsZero() || d.After(invocation.Add(-margin)) {
					t.Errorf("call %d of %d had deadline %v; want one by %v (the invocation's minus the margin)", i+1, len(db.deadlines), d, invocation.Add(-margin))
				}
			}
		})
	}
}
