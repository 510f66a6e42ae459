package lambdapool

import (
	"bytes"
	"io"
	"sync"
)

// maxLineBytes splits lines longer than this, so that a runaway line cannot grow a buffer
// without bound.
const maxLineBytes = 256 << 10

// logSink writes whole lines to Options.Logs. One mutex for every process keeps lines from
// different processes from interleaving part way.
type logSink struct {
	mu sync.Mutex
	w  io.Writer
}

// newLogSink returns a sink writing to w, or discarding when w is nil.
func newLogSink(w io.Writer) *logSink {
	if w == nil {
		w = io.Discard
	}
	return &logSink{w: w}
}

// line writes "[name] text" and a newline in one Write.
func (s *logSink) line(name, text string) {
	s.write(prefix(name), []byte(text))
}

// write writes prefix, line and a newline in one Write. Errors are dropped: a failing log
// destination must not fail the functions.
func (s *logSink) write(prefix, line []byte) {
	b := make([]byte, 0, len(prefix)+len(line)+1)
	b = append(b, prefix...)
	b = append(b, line...)
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b)
}

// prefix is what starts every line of the function called name.
func prefix(name string) []byte {
	return []byte("[" + name + "] ")
}

// lineWriter turns one output stream of a process into whole prefixed lines. Each stream has its
// own, written to by one goroutine, so it needs no lock of its own.
type lineWriter struct {
	sink   *logSink
	prefix []byte
	buf    []byte
}

// newLineWriter returns a writer for one stream of the function called name.
func newLineWriter(sink *logSink, name string) *lineWriter {
	return &lineWriter{sink: sink, prefix: prefix(name)}
}

// Write passes on every complete line in b and keeps the rest for the next call.
func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	rest := w.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.emit(rest[:i])
		rest = rest[i+1:]
	}
	for len(rest) >= maxLineBytes {
		w.emit(rest[:maxLineBytes])
		rest = rest[maxLineBytes:]
	}
	w.buf = append(w.buf[:0], rest...)
	return len(b), nil
}

// flush passes on a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
}

// emit writes line, split into pieces of at most maxLineBytes.
func (w *lineWriter) emit(line []byte) {
	for len(line) > maxLineBytes {
		w.sink.write(w.prefix, line[:maxLineBytes])
		line = line[maxLineBytes:]
	}
	w.sink.write(w.prefix, line)
}
