package quotes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/clock"
)

// ErrNotFound is a quote that does not exist (yet), or belongs to someone else.
var ErrNotFound = errors.New("quote not found")

// Job is the queued request to price a quote: the message body. Engine is the decision made at
// submission; the worker must use it.
type Job struct {
	QuoteID  string         `json:"quoteId"`
	Owner    string         `json:"owner"`
	SKU      string         `json:"sku"`
	Quantity int            `json:"quantity"`
	Plan     string         `json:"plan,omitempty"`
	Engine   pricing.Engine `json:"engine"`
}

// Quote is a priced job, as stored.
type Quote struct {
	QuoteID   string         `dynamodbav:"quoteId" json:"quoteId"`
	Owner     string         `dynamodbav:"owner" json:"-"`
	SKU       string         `dynamodbav:"sku" json:"sku"`
	Quantity  int            `dynamodbav:"quantity" json:"quantity"`
	Price     int64          `dynamodbav:"price" json:"price"`
	Currency  string         `dynamodbav:"currency" json:"currency"`
	Engine    pricing.Engine `dynamodbav:"engine" json:"engine"`
	PricedAt  time.Time      `dynamodbav:"pricedAt" json:"pricedAt"`
	ExpiresAt int64          `dynamodbav:"expiresAt" json:"-"`
}

// Queue takes jobs to the worker (sqsqueue.Queue).
type Queue interface {
	Send(ctx context.Context, job Job) error
}

// Submitter queues quote jobs.
type Submitter struct {
	Queue Queue
}

// Submit validates the request and queues it with engine. A non-empty idempotencyKey makes the
// quote ID a function of the caller and the key, so a retried POST names the same quote and the
// worker's conditional write keeps one.
func (s Submitter) Submit(ctx context.Context, owner string, req pricing.Request, engine pricing.Engine, idempotencyKey string) (Job, error) {
	if err := req.Validate(); err != nil {
		return Job{}, err
	}
	job := Job{QuoteID: quoteID(owner, idempotencyKey), Owner: owner, SKU: req.SKU, Quantity: req.Quantity, Plan: req.Plan, Engine: engine}
	if err := s.Queue.Send(ctx, job); err != nil {
		return Job{}, fmt.Errorf("queue quote %s: %w", job.QuoteID, err)
	}
	return job, nil
}

func quoteID(owner, key string) string {
	if key == "" {
		b := make([]byte, 16)
		rand.Read(b) // never fails (crypto/rand, Go 1.24+)
		return hex.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(owner + "\n" + key))
	return hex.EncodeToString(sum[:16])
}

// Store keeps priced quotes (DynamoStore).
type Store interface {
	// Put stores q unless a quote with its ID exists; it reports whether it stored it.
	Put(ctx context.Context, q Quote) (bool, error)
	Get(ctx context.Context, id string) (Quote, error)
}

// ErrBadJob is a job no attempt can price: no such engine, an invalid SKU. The worker's queue
// sends it to the dead-letter queue.
var ErrBadJob = errors.New("quote job cannot be priced")

// Worker prices jobs with the engine they carry.
type Worker struct {
	Store     Store
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Process prices job with job.Engine and stores the quote. A second delivery of the same job
// stores nothing new (the first write wins) and succeeds, so the queue stops redelivering it.
func (w Worker) Process(ctx context.Context, job Job) (Quote, error) {
	if _, ok := pricing.ParseEngine(string(job.Engine)); !ok {
		return Quote{}, fmt.Errorf("quote %s: engine %q: %w", job.QuoteID, job.Engine, ErrBadJob)
	}
	if job.QuoteID == "" || job.Owner == "" {
		return Quote{}, fmt.Errorf("quote %q: no id or owner: %w", job.QuoteID, ErrBadJob)
	}
	p, err := pricing.Quote(job.Engine, pricing.Request{SKU: job.SKU, Quantity: job.Quantity, Plan: job.Plan})
	if err != nil {
		return Quote{}, fmt.Errorf("price quote %s: %w: %w", job.QuoteID, ErrBadJob, err)
	}
	now := clock.Now(w.Now)
	q := Quote{
		QuoteID: job.QuoteID, Owner: job.Owner, SKU: p.SKU, Quantity: p.Quantity, Price: p.Amount,
		Currency: p.Currency, Engine: p.Engine, PricedAt: now.UTC(), ExpiresAt: now.Add(w.Retention).Unix(),
	}
	if _, err := w.Store.Put(ctx, q); err != nil {
		return Quote{}, fmt.Errorf("store quote %s: %w", job.QuoteID, err)
	}
	return q, nil
}

// Reader finds a caller's quotes.
type Reader struct {
	Store Store
}

// Get returns owner's quote id; another owner's quote is ErrNotFound, as if it did not exist.
func (r Reader) Get(ctx context.Context, owner, id string) (Quote, error) {
	q, err := r.Store.Get(ctx, id)
	if err != nil {
		return Quote{}, err
	}
	if q.Owner != owner {
		return Quote{}, ErrNotFound
	}
	return q, nil
}
