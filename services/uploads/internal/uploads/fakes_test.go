package uploads

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing/iotest"
	"time"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)) }

// memStore is a Store in memory that keeps DynamoStore's conditions; it records the calls made.
type memStore struct {
	mu        sync.Mutex
	uploads   map[string]Upload
	calls     []string
	createErr error
	getErr    error
	finishErr error
}

func newMemStore(us ...Upload) *memStore {
	s := &memStore{uploads: map[string]Upload{}}
	for _, u := range us {
		s.uploads[u.ID] = u
	}
	return s
}

func (s *memStore) Create(_ context.Context, u Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "create "+u.ID)
	if s.createErr != nil {
		return s.createErr
	}
	if _, ok := s.uploads[u.ID]; ok {
		return ErrConflict
	}
	s.uploads[u.ID] = u
	return nil
}

func (s *memStore) Get(_ context.Context, id string) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "get "+id)
	if s.getErr != nil {
		return Upload{}, s.getErr
	}
	u, ok := s.uploads[id]
	if !ok {
		return Upload{}, ErrNotFound
	}
	return u, nil
}

func (s *memStore) Finish(_ context.Context, id string, status Status, reason string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "finish "+string(status))
	if s.finishErr != nil {
		return s.finishErr
	}
	u, ok := s.uploads[id]
	if !ok || u.Status != StatusPending {
		return ErrConflict
	}
	u.Status, u.Reason, u.VerifiedAt = status, reason, &now
	s.uploads[id] = u
	return nil
}

// memObjects is an ObjectStore in memory; calls lists what was done, in order, across the
// store and the objects (they share the log so tests can check the order).
type memObjects struct {
	objects map[string][]byte
	types   map[string]string
	kept    map[string]bool
	log     *[]string
	headErr error
	delErr  error
	keepErr error
}

func newMemObjects(log *[]string) *memObjects {
	return &memObjects{objects: map[string][]byte{}, types: map[string]string{}, kept: map[string]bool{}, log: log}
}

// put writes an object as a signed PUT does: with the pending tag, so not kept.
func (o *memObjects) put(key, contentType string, body []byte) {
	o.objects[key] = body
	o.types[key] = contentType
	delete(o.kept, key)
}

func (o *memObjects) Head(_ context.Context, key string) (ObjectInfo, error) {
	*o.log = append(*o.log, "head")
	if o.headErr != nil {
		return ObjectInfo{}, o.headErr
	}
	body, ok := o.objects[key]
	if !ok {
		return ObjectInfo{}, ErrObjectNotFound
	}
	return ObjectInfo{Size: int64(len(body)), ContentType: o.types[key], SHA256: sha(body)}, nil
}

func (o *memObjects) ReadHead(_ context.Context, key string, n int) ([]byte, error) {
	*o.log = append(*o.log, "read")
	body, ok := o.objects[key]
	if !ok {
		return nil, ErrObjectNotFound
	}
	return body[:min(n, len(body))], nil
}

func (o *memObjects) Open(_ context.Context, key string) (io.ReadCloser, error) {
	*o.log = append(*o.log, "read")
	body, ok := o.objects[key]
	if !ok {
		return nil, ErrObjectNotFound
	}
	// One byte per Read: every chunk boundary a streamed check can meet, met.
	return io.NopCloser(iotest.OneByteReader(bytes.NewReader(body))), nil
}

func (o *memObjects) Delete(_ context.Context, key string) error {
	*o.log = append(*o.log, "delete")
	if o.delErr != nil {
		return o.delErr
	}
	delete(o.objects, key)
	return nil
}

func (o *memObjects) Keep(_ context.Context, key string) error {
	*o.log = append(*o.log, "keep")
	if o.keepErr != nil {
		return o.keepErr
	}
	o.kept[key] = true
	return nil
}

// fakeSigner signs nothing; it records what it was asked.
type fakeSigner struct {
	puts    []string
	expires []time.Duration
	err     error
}

func (f *fakeSigner) SignPut(_ context.Context, key string, in Request, expires time.Duration) (SignedRequest, error) {
	f.puts = append(f.puts, key)
	f.expires = append(f.expires, expires)
	if f.err != nil {
		return SignedRequest{}, f.err
	}
	return SignedRequest{Method: "PUT", URL: "https://bucket.s3.amazonaws.com/" + key + "?X-Amz-Signature=abc", Headers: map[string]string{"Content-Type": in.ContentType}}, nil
}

func (f *fakeSigner) SignGet(_ context.Context, key, fileName, contentType string, expires time.Duration) (SignedRequest, error) {
	if f.err != nil {
		return SignedRequest{}, f.err
	}
	return SignedRequest{Method: "GET", URL: "https://bucket.s3.amazonaws.com/" + key + "?name=" + fileName}, nil
}
