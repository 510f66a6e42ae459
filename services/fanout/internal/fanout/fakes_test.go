package fanout

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/go-serverless/reference/shared/logging"
)

// fakeSink records the batches sent to the sink; failNext makes the next sends fail.
type fakeSink struct {
	mu       sync.Mutex
	sent     []string
	failNext int
}

func (f *fakeSink) Send(_ context.Context, batchID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		return errors.New("sqs unavailable")
	}
	f.sent = append(f.sent, batchID)
	return nil
}

func (f *fakeSink) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// fakeQueue records the subtasks sent; a call for which fail returns true fails.
type fakeQueue struct {
	mu    sync.Mutex
	sent  []Subtask
	calls int
	fail  func(tasks []Subtask) bool
}

func (q *fakeQueue) SendBatch(_ context.Context, tasks []Subtask) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.fail != nil && q.fail(tasks) {
		return errors.New("sqs unavailable")
	}
	q.sent = append(q.sent, tasks...)
	return nil
}

// logBuffer is a logger whose lines a test can count.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

func newLog() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(logging.NewHandler(slog.NewJSONHandler(lb, nil), slog.LevelInfo)), lb
}
