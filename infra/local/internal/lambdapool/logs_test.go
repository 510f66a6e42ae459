package lambdapool

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("z", maxLineBytes)
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{name: "one line", writes: []string{"hello\n"}, want: "[f] hello\n"},
		{name: "line in pieces", writes: []string{"hel", "lo", "\n"}, want: "[f] hello\n"},
		{name: "lines in one write", writes: []string{"a\nb\nc"}, want: "[f] a\n[f] b\n[f] c\n"},
		{name: "empty line", writes: []string{"\n"}, want: "[f] \n"},
		{name: "unterminated last line", writes: []string{"last"}, want: "[f] last\n"},
		{name: "overlong line split", writes: []string{long + "tail\n"}, want: "[f] " + long + "\n[f] tail\n"},
		{name: "overlong line in pieces split", writes: []string{long[:10], long[10:] + "tail"}, want: "[f] " + long + "\n[f] tail\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			w := newLineWriter(newLogSink(&out), "f")
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("write %q: got (%d, %v), want (%d, nil)", s, n, err, len(s))
				}
			}
			w.flush()
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", abbreviate(got), abbreviate(tt.want))
			}
		})
	}
}

// abbreviate keeps failure messages about long lines readable.
func abbreviate(s string) string {
	if len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)...%s", s[:80], len(s)-160, s[len(s)-80:])
}
