package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-serverless/reference/shared/idempotency"
)

// memStore is an in-memory job store with the same conditional rules as DynamoStore.
type memStore struct {
	mu   sync.Mutex
	jobs map[string]Job
	// failCreate, when set, is returned by Create.
	failCreate error
	// beforeFinish runs inside Finish before the condition is checked (to interleave a rival writer).
	beforeFinish func(s *memStore)
	// hiddenGets is how many Gets answer ErrNotFound before the jobs show (a record written late).
	hiddenGets int
}

func newMemStore(jobs ...Job) *memStore {
	s := &memStore{jobs: map[string]Job{}}
	for _, j := range jobs {
		s.jobs[j.ID] = j
	}
	return s
}

func (s *memStore) Create(_ context.Context, job Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCreate != nil {
		return s.failCreate
	}
	if _, ok := s.jobs[job.ID]; ok {
		return ErrConflict
	}
	s.jobs[job.ID] = job
	return nil
}

func (s *memStore) Get(_ context.Context, id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hiddenGets > 0 {
		s.hiddenGets--
		return Job{}, ErrNotFound
	}
	job, ok := s.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	return job, nil
}

func (s *memStore) Start(_ context.Context, id string, now time.Time) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job, ok := s.jobs[id]
	if !ok || (job.Status != StatusPending && job.Status != StatusRunning) {
		return Job{}, ErrConflict
	}
	job.Status = StatusRunning
	job.Attempts++
	if job.StartedAt == nil {
		job.StartedAt = &now
	}
	s.jobs[id] = job
	return job, nil
}

func (s *memStore) Finish(_ context.Context, id string, status Status, result *Result, failure *Failure, now time.Time) error {
	if s.beforeFinish != nil {
		s.beforeFinish(s)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	job, ok := s.jobs[id]
	if !ok || job.Status != StatusRunning {
		return ErrConflict
	}
	job.Status, job.Result, job.Failure, job.FinishedAt = status, result, failure, &now
	s.jobs[id] = job
	return nil
}

func (s *memStore) TimeOut(_ context.Context, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	job, ok := s.jobs[id]
	if !ok || job.Status.Done() || !now.After(job.Deadline) {
		return ErrConflict
	}
	job.Status = StatusTimedOut
	job.Failure = &Failure{Reason: "deadline passed"}
	job.FinishedAt = &now
	s.jobs[id] = job
	return nil
}

// memClaims is an in-memory RunClaims with idempotency.Store's semantics.
type memClaims struct {
	mu         sync.Mutex
	done       map[string][]byte
	inProgress map[string]bool
}

// errInProgress is what idempotency.Store.Do returns for a key another attempt holds.
var errInProgress = fmt.Errorf("claim idempotency key run/x: %w", idempotency.ErrInProgress)

func newMemClaims() *memClaims {
	return &memClaims{done: map[string][]byte{}, inProgress: map[string]bool{}}
}

func (c *memClaims) Do(ctx context.Context, key, _ string, _ time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if r, ok := c.done[key]; ok {
		c.mu.Unlock()
		return r, nil
	}
	if c.inProgress[key] {
		c.mu.Unlock()
		return nil, errInProgress
	}
	c.inProgress[key] = true
	c.mu.Unlock()

	r, err := fn(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inProgress, key)
	if err == nil {
		c.done[key] = r
	}
	return r, err
}

// fakeQueue records sent tasks.
type fakeQueue struct {
	mu   sync.Mutex
	sent []Task
	err  error
}

func (q *fakeQueue) Send(_ context.Context, task Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, task)
	return nil
}
