package imports

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing/iotest"
	"time"
)

// memStore is an in-memory Store with the same conditional rules as dynamostore.Store.
type memStore struct {
	mu      sync.Mutex
	imports map[string]Import
	orders  map[string]map[int64]Order
	rejects map[string]map[int64]Reject
	// orderWrites counts every order written, rewrites included.
	orderWrites int
	// beforeWrite, when set, runs first in WriteOrders; an error it returns ends the call after
	// writing only the first half of the orders (an invocation killed mid-batch).
	beforeWrite func(orders []Order) error
}

func newMemStore() *memStore {
	return &memStore{imports: map[string]Import{}, orders: map[string]map[int64]Order{}, rejects: map[string]map[int64]Reject{}}
}

func (s *memStore) Create(_ context.Context, imp Import) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.imports[imp.ID]; ok {
		return ErrConflict
	}
	s.imports[imp.ID] = imp
	return nil
}

func (s *memStore) Get(_ context.Context, id string) (Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, ok := s.imports[id]
	if !ok {
		return Import{}, ErrNotFound
	}
	return imp, nil
}

func (s *memStore) Claim(_ context.Context, id string, depth int, now time.Time) (Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, ok := s.imports[id]
	if !ok || imp.Status != StatusRunning || imp.Depth > depth {
		return Import{}, ErrConflict
	}
	imp.Depth, imp.UpdatedAt = depth, now
	imp.Invocations++
	s.imports[id] = imp
	return imp, nil
}

func (s *memStore) WriteOrders(_ context.Context, orders []Order) error {
	if s.beforeWrite != nil {
		if err := s.beforeWrite(orders); err != nil {
			s.write(orders[:len(orders)/2])
			return err
		}
	}
	s.write(orders)
	return nil
}

func (s *memStore) write(orders []Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range orders {
		if s.orders[o.ImportID] == nil {
			s.orders[o.ImportID] = map[int64]Order{}
		}
		s.orders[o.ImportID][o.Line] = o
		s.orderWrites++
	}
}

func (s *memStore) WriteRejects(_ context.Context, id string, rejects []Reject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rejects {
		if s.rejects[id] == nil {
			s.rejects[id] = map[int64]Reject{}
		}
		s.rejects[id][r.Line] = r
	}
	return nil
}

func (s *memStore) Checkpoint(_ context.Context, id string, from int64, cp Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, ok := s.imports[id]
	if !ok || imp.Status != StatusRunning || imp.Offset != from {
		return ErrConflict
	}
	imp.Offset, imp.Line, imp.UpdatedAt = cp.Offset, cp.Line, cp.Now
	imp.Accepted += cp.Accepted
	imp.Rejected += cp.Rejected
	if cp.Hop != nil {
		imp.Hops = append(slices.Clip(imp.Hops), *cp.Hop)
	}
	if cp.Done {
		imp.Status, imp.FinishedAt = StatusSucceeded, &cp.Now
	}
	s.imports[id] = imp
	return nil
}

func (s *memStore) Fail(_ context.Context, id string, depth int, reason string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, ok := s.imports[id]
	if !ok || imp.Status != StatusRunning || imp.Depth > depth {
		return ErrConflict
	}
	imp.Status, imp.Failure, imp.FinishedAt = StatusFailed, reason, &now
	s.imports[id] = imp
	return nil
}

func (s *memStore) Rejects(_ context.Context, id string, limit int) ([]Reject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := slices.Sorted(maps.Keys(s.rejects[id]))
	var out []Reject
	for _, l := range lines[:min(limit, len(lines))] {
		out = append(out, s.rejects[id][l])
	}
	return out, nil
}

// ordersOf returns the stored orders of an import by line.
func (s *memStore) ordersOf(id string) map[int64]Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.orders[id])
}

// memObjects serves objects from memory with S3's Range and If-Match semantics, one byte per
// Read so that multi-byte characters arrive split across reads.
type memObjects struct {
	mu      sync.Mutex
	objects map[string][]byte
	etags   map[string]string
	// opens records the range of every Open.
	opens []byteRange
}

// byteRange is the range of one Range GET.
type byteRange struct{ offset, length int64 }

func newMemObjects() *memObjects {
	return &memObjects{objects: map[string][]byte{}, etags: map[string]string{}}
}

func (o *memObjects) put(bucket, key string, body []byte) Object {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[bucket+"/"+key] = body
	o.etags[bucket+"/"+key] = fmt.Sprintf("etag-%d-%d", len(body), len(o.etags))
	return Object{Bucket: bucket, Key: key, ETag: o.etags[bucket+"/"+key], Size: int64(len(body))}
}

func (o *memObjects) Open(_ context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	body, ok := o.objects[bucket+"/"+key]
	if !ok {
		return nil, ErrObjectNotFound
	}
	if o.etags[bucket+"/"+key] != etag {
		return nil, ErrObjectChanged
	}
	if offset >= int64(len(body)) || length < 1 {
		return nil, fmt.Errorf("InvalidRange: bytes=%d-%d of %d", offset, offset+length-1, len(body))
	}
	o.opens = append(o.opens, byteRange{offset, length})
	end := min(offset+length, int64(len(body))) // S3 answers a range past the end up to the end
	return io.NopCloser(iotest.OneByteReader(bytes.NewReader(body[offset:end]))), nil
}

// fakeClock is a clock tests move by hand. It starts at the real time and only moves forward,
// so deadlines derived from it are never in the real past.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
