package quotes

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// newDynamoStore makes a quotes table shaped like QuotesTable in template.yaml, on DynamoDB Local.
func newDynamoStore(t *testing.T) DynamoStore {
	t.Helper()
	db := dynamotest.Start(t)
	table := dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("quoteId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("quoteId"), KeyType: types.KeyTypeHash}},
	})
	return DynamoStore{DB: db, Table: table}
}

func TestWorkerPricesWithTheCarriedEngine(t *testing.T) {
	ctx := context.Background()
	store := newDynamoStore(t)
	now := t0
	w := Worker{Store: store, Retention: 24 * time.Hour, Now: func() time.Time { return now }}
	job := Job{QuoteID: "q-1", Owner: "alice", SKU: "TEA-001", Quantity: 100, Plan: "pro", Engine: pricing.V2}

	got, err := w.Process(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if got.Engine != pricing.V2 || got.Price != 38250 {
		t.Fatalf("Process = %+v; want priced by v2 at 38250", got)
	}
	// A second delivery, later: nothing changes in the table and the message succeeds.
	now = t0.Add(time.Minute)
	if _, err := w.Process(ctx, job); err != nil {
		t.Fatalf("second delivery = %v; want success", err)
	}
	stored, err := Reader{Store: store}.Get(ctx, "alice", "q-1")
	if err != nil || stored.Engine != pricing.V2 || stored.Price != 38250 || !stored.PricedAt.Equal(t0) || stored.ExpiresAt != t0.Add(24*time.Hour).Unix() {
		t.Fatalf("stored = %+v, %v; want the first delivery's quote", stored, err)
	}
	if _, err := (Reader{Store: store}).Get(ctx, "mallory", "q-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another owner's Get = %v; want ErrNotFound", err)
	}
	if _, err := (Reader{Store: store}).Get(ctx, "alice", "q-404"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown quote = %v; want ErrNotFound", err)
	}
}

type fakeStore struct{ puts []Quote }

func (f *fakeStore) Put(_ context.Context, q Quote) (bool, error) {
	f.puts = append(f.puts, q)
	return true, nil
}

func (f *fakeStore) Get(context.Context, string) (Quote, error) { return Quote{}, ErrNotFound }

func TestWorkerRejectsBadJobs(t *testing.T) {
	tests := []struct {
		name string
		job  Job
	}{
		{name: "no engine", job: Job{QuoteID: "q", Owner: "a", SKU: "TEA-001", Quantity: 1}},
		{name: "unknown engine", job: Job{QuoteID: "q", Owner: "a", SKU: "TEA-001", Quantity: 1, Engine: "v3"}},
		{name: "unknown sku", job: Job{QuoteID: "q", Owner: "a", SKU: "ZZZ-001", Quantity: 1, Engine: pricing.V1}},
		{name: "no owner", job: Job{QuoteID: "q", SKU: "TEA-001", Quantity: 1, Engine: pricing.V1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{}
			_, err := Worker{Store: store, Now: func() time.Time { return t0 }}.Process(context.Background(), tt.job)
			if !errors.Is(err, ErrBadJob) || len(store.puts) != 0 {
				t.Errorf("Process = %v with %d writes; want ErrBadJob and none", err, len(store.puts))
			}
		})
	}
}

type fakeQueue struct {
	sent []Job
	err  error
}

func (f *fakeQueue) Send(_ context.Context, job Job) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, job)
	return nil
}

func TestSubmit(t *testing.T) {
	ctx := context.Background()
	q := &fakeQueue{}
	s := Submitter{Queue: q}
	req := pricing.Request{SKU: "MUG-001", Quantity: 2, Plan: "beta"}

	a, err := s.Submit(ctx, "alice", req, pricing.V2, "order-7")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Submit(ctx, "alice", req, pricing.V2, "order-7")
	c, _ := s.Submit(ctx, "bob", req, pricing.V2, "order-7")
	d, _ := s.Submit(ctx, "alice", req, pricing.V2, "")
	e, _ := s.Submit(ctx, "alice", req, pricing.V2, "")
	if a.QuoteID != b.QuoteID || a.QuoteID == c.QuoteID || d.QuoteID == e.QuoteID || len(a.QuoteID) != 32 {
		t.Errorf("quote IDs %s %s %s %s %s; want the same for a retried key, distinct otherwise", a.QuoteID, b.QuoteID, c.QuoteID, d.QuoteID, e.QuoteID)
	}
	if len(q.sent) != 5 || q.sent[0].Engine != pricing.V2 || q.sent[0].Plan != "beta" {
		t.Errorf("sent %+v; want 5 jobs carrying engine v2 and the plan", q.sent)
	}

	if _, err := s.Submit(ctx, "alice", pricing.Request{SKU: "bad", Quantity: 1}, pricing.V1, ""); !errors.Is(err, pricing.ErrInvalidSKU) || len(q.sent) != 5 {
		t.Errorf("invalid request: %v, %d sent; want ErrInvalidSKU and nothing queued", err, len(q.sent))
	}
	if _, err := s.Submit(ctx, "alice", pricing.Request{SKU: "ZZZ-999", Quantity: 1}, pricing.V1, ""); !errors.Is(err, pricing.ErrUnknownSKU) || len(q.sent) != 5 {
		t.Errorf("unknown SKU: %v, %d sent; want ErrUnknownSKU and nothing queued", err, len(q.sent))
	}
	failing := Submitter{Queue: &fakeQueue{err: errors.New("throttled")}}
	if _, err := failing.Submit(ctx, "alice", req, pricing.V1, ""); err == nil {
		t.Error("Submit with the queue down succeeded; want an error")
	}
}
