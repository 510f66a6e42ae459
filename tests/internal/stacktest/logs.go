package stacktest

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// Logs collects the functions' log lines, as the runner prints them. Safe for concurrent use.
type Logs struct {
	// Copy, when set, receives every line as it arrives (the soak keeps them in a file).
	Copy io.Writer

	mu    sync.Mutex
	lines []string
}

// Add records line.
func (l *Logs) Add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if l.Copy != nil {
		_, _ = io.WriteString(l.Copy, line+"\n")
	}
}

// From returns the lines from the first one that starts with prefix to the last line.
func (l *Logs) From(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range l.lines {
		if strings.HasPrefix(line, prefix) {
			return slices.Clone(l.lines[i:])
		}
	}
	return nil
}

// Matching returns the lines that contain every one of parts.
func (l *Logs) Matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			out = append(out, line)
		}
	}
	return out
}

// Dump writes every line to w, for a failing test's output.
func (l *Logs) Dump(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b bytes.Buffer
	for _, line := range l.lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}
