package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

func newReadModel(t *testing.T) ReadModel {
	t.Helper()
	db := dynamotest.Start(t)
	return ReadModel{DB: db, Table: dynamotest.CreateTable(t, db, keyed("owner", "S", "accountId", types.ScalarAttributeTypeS))}
}

func TestReadModelCountsEachEventOnce(t *testing.T) {
	tests := []struct {
		name    string
		history []Event
	}{
		{"events with balanceAfter", []Event{
			opened("a1", "alice"),
			{AccountID: "a1", Owner: "alice", Version: 2, Type: Deposited, Amount: 100, At: t0, BalanceAfter: new(int64(100))},
			{AccountID: "a1", Owner: "alice", Version: 3, Type: Withdrawn, Amount: 30, At: t0, BalanceAfter: new(int64(70))},
		}},
		{"events written before balanceAfter", []Event{
			opened("a1", "alice"),
			{AccountID: "a1", Owner: "alice", Version: 2, Type: Deposited, Amount: 100, At: t0},
			{AccountID: "a1", Owner: "alice", Version: 3, Type: Withdrawn, Amount: 30, At: t0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newReadModel(t)
			ctx := context.Background()
			h := tt.history
			// Every event delivered twice, and the first two again after the third (a redelivered batch).
			deliveries := []Event{h[0], h[0], h[1], h[1], h[2], h[0], h[1], h[2]}
			for i, e := range deliveries {
				if err := m.Apply(ctx, e); err != nil {
					t.Fatalf("delivery %d (version %d): %v", i, e.Version, err)
				}
			}
			rows, more, err := m.List(ctx, "alice", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			want := []Summary{{Owner: "alice", AccountID: "a1", Balance: 70, Version: 3}}
			if !reflect.DeepEqual(rows, want) || more {
				t.Errorf("List = %+v, more %t; want %+v and no more", rows, more, want)
			}
			if rows, _, _ := m.List(ctx, "bob", "", 10); len(rows) != 0 {
				t.Errorf("bob's list = %+v, want empty", rows)
			}
		})
	}
}

// TestReadModelHealsAfterALostEvent loses version 2 on the way (its stream record went to the
// OnFailure queue): version 3 still sets the row right, and version 2 coming back changes nothing.
func TestReadModelHealsAfterALostEvent(t *testing.T) {
	m := newReadModel(t)
	ctx := context.Background()
	v2 := Event{AccountID: "a1", Owner: "alice", Version: 2, Type: Deposited, Amount: 100, At: t0, BalanceAfter: new(int64(100))}
	v3 := Event{AccountID: "a1", Owner: "alice", Version: 3, Type: Withdrawn, Amount: 30, At: t0, BalanceAfter: new(int64(70))}
	want := []Summary{{Owner: "alice", AccountID: "a1", Balance: 70, Version: 3}}
	steps := []struct {
		name  string
		event Event
	}{
		{"version 1", opened("a1", "alice")},
		{"version 3, version 2 lost", v3},
		{"version 2 replayed late", v2},
		{"version 3 redelivered", v3},
	}
	for _, step := range steps {
		if err := m.Apply(ctx, step.event); err != nil {
			t.Fatalf("%s: Apply() = %v, want nil", step.name, err)
		}
	}
	rows, _, err := m.List(ctx, "alice", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("List = %+v, want %+v: the row must follow the latest event only", rows, want)
	}
	// An account whose opening was lost too: its first event to arrive creates the row.
	if err := m.Apply(ctx, Event{AccountID: "a2", Owner: "alice", Version: 2, Type: Deposited, Amount: 5, At: t0, BalanceAfter: new(int64(5))}); err != nil {
		t.Fatalf("version 2 of an account whose opening was lost: %v", err)
	}
	if err := m.Apply(ctx, opened("a2", "alice")); err != nil {
		t.Fatalf("opening replayed late: %v", err)
	}
	rows, _, err = m.List(ctx, "alice", "a1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Summary{{Owner: "alice", AccountID: "a2", Balance: 5, Version: 2}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("List(after a1) = %+v, want %+v", rows, want)
	}
}

// TestReadModelPages pages through an owner's accounts on DynamoDB Local, with another owner's
// account IDs interleaved between them in sort-key order.
func TestReadModelPages(t *testing.T) {
	tests := []struct {
		name      string
		accounts  int
		limit     int
		wantPages []int
	}{
		{"a short last page", 7, 3, []int{3, 3, 1}},
		{"full pages only", 6, 3, []int{3, 3}},
		{"one page per account", 3, 1, []int{1, 1, 1}},
		{"all on one page", 7, 500, []int{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newReadModel(t)
			ctx := context.Background()
			var want []string
			for i := range tt.accounts {
				alices, bobs := fmt.Sprintf("acct-%02d", i), fmt.Sprintf("acct-%02d-b", i)
				want = append(want, alices)
				for _, e := range []Event{opened(alices, "alice"), opened(bobs, "bob")} {
					if err := m.Apply(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
			}
			var got []string
			var pages []int
			after := ""
			for more := true; more; {
				var rows []Summary
				var err error
				rows, more, err = m.List(ctx, "alice", after, tt.limit)
				if err != nil {
					t.Fatalf("List(after %q): %v", after, err)
				}
				if len(pages) > len(tt.wantPages) {
					t.Fatalf("pages = %v and more, want %v", pages, tt.wantPages)
				}
				pages = append(pages, len(rows))
				for _, r := range rows {
					if r.Owner != "alice" {
						t.Errorf("alice's page has %s's account %s", r.Owner, r.AccountID)
					}
					got = append(got, r.AccountID)
				}
				if len(rows) > 0 {
					after = rows[len(rows)-1].AccountID
				}
			}
			if !reflect.DeepEqual(pages, tt.wantPages) {
				t.Errorf("page sizes = %v, want %v", pages, tt.wantPages)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("accounts = %v, want %v", got, want)
			}
		})
	}
}

// TestReadModelStaysInTheOwnersPartition starts alice's list at one of bob's account IDs, as a
// forged cursor would: she gets her own accounts after that ID, never his.
func TestReadModelStaysInTheOwnersPartition(t *testing.T) {
	m := newReadModel(t)
	ctx := context.Background()
	for _, e := range []Event{opened("a1", "alice"), opened("b1", "bob"), opened("b2", "bob"), opened("c1", "alice")} {
		if err := m.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rows, more, err := m.List(ctx, "alice", "b1", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{{Owner: "alice", AccountID: "c1", Version: 1}}
	if !reflect.DeepEqual(rows, want) || more {
		t.Errorf("List(alice, after bob's b1) = %+v, more %t; want only %+v", rows, more, want)
	}
}

func TestReadModelRefusesALimitBelowOne(t *testing.T) {
	m := ReadModel{DB: nil, Table: "unused"}
	if _, _, err := m.List(context.Background(), "alice", "", 0); err == nil {
		t.Error("List(limit 0) = nil error, want one (and no call)")
	}
}

// pagedDB is a Query that answers at most perCall items of rows per call, as DynamoDB does when
// a page reaches 1 MB, honouring Limit and ExclusiveStartKey.
type pagedDB struct {
	ReadModelAPI
	rows    []string
	perCall int
	calls   int
}

func (p *pagedDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.calls++
	start := 0
	if k, ok := in.ExclusiveStartKey["accountId"].(*types.AttributeValueMemberS); ok {
		start = slices.Index(p.rows, k.Value) + 1
	}
	end := min(start+p.perCall, start+int(aws.ToInt32(in.Limit)), len(p.rows))
	out := &dynamodb.QueryOutput{}
	for _, id := range p.rows[start:end] {
		out.Items = append(out.Items, map[string]types.AttributeValue{"owner": str("alice"), "accountId": str(id)})
	}
	if end < len(p.rows) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{"owner": str("alice"), "accountId": str(p.rows[end-1])}
	}
	return out, nil
}

// TestListFollowsDynamoDBPages checks that a page of the API is not cut short when DynamoDB
// answers with fewer items than asked and a LastEvaluatedKey.
func TestListFollowsDynamoDBPages(t *testing.T) {
	db := &pagedDB{rows: []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"}, perCall: 2}
	rows, more, err := ReadModel{DB: db, Table: "accounts"}.List(context.Background(), "alice", "", 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.AccountID)
	}
	if want := []string{"a1", "a2", "a3", "a4"}; !reflect.DeepEqual(got, want) || !more {
		t.Errorf("List(limit 4) = %v, more %t; want %v and more", got, more, want)
	}
	// 5 items (the page and one to know more follow) at 2 a call: 3 calls, no more.
	if db.calls != 3 {
		t.Errorf("Query calls = %d, want 3", db.calls)
	}
}

// TestReadModelRefusesAGap covers events written before balanceAfter: they carry only their
// amount, so one cannot be projected before the version preceding it.
func TestReadModelRefusesAGap(t *testing.T) {
	m := newReadModel(t)
	ctx := context.Background()
	if err := m.Apply(ctx, opened("a1", "alice")); err != nil {
		t.Fatal(err)
	}
	late := Event{AccountID: "a1", Owner: "alice", Version: 3, Type: Deposited, Amount: 5, At: t0}
	if err := m.Apply(ctx, late); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("version 3 onto version 1 = %v, want ErrOutOfOrder", err)
	}
	missing := Event{AccountID: "a2", Owner: "alice", Version: 2, Type: Deposited, Amount: 5, At: t0}
	if err := m.Apply(ctx, missing); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("version 2 of an account never opened = %v, want ErrOutOfOrder", err)
	}
}

type projectorCalls struct {
	applyErr error
	calls    []string
}

func (p *projectorCalls) Apply(context.Context, Event) error {
	p.calls = append(p.calls, "apply")
	return p.applyErr
}

func (p *projectorCalls) Publish(context.Context, Event) error {
	p.calls = append(p.calls, "publish")
	return nil
}

func TestProjectorPublishesOnlyAfterTheReadModel(t *testing.T) {
	calls := &projectorCalls{applyErr: ErrOutOfOrder}
	p := Projector{ReadModel: calls, Publisher: calls}
	if err := p.Project(context.Background(), opened("a1", "alice")); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("Project() = %v, want the read model's error", err)
	}
	calls.applyErr = nil
	if err := p.Project(context.Background(), opened("a1", "alice")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apply", "apply", "publish"}; !reflect.DeepEqual(calls.calls, want) {
		t.Errorf("calls = %v, want %v", calls.calls, want)
	}
}
