package stacktest

import (
	"bytes"
	"slices"
	"testing"
)

func TestLogs(t *testing.T) {
	var copied bytes.Buffer
	l := &Logs{Copy: &copied}
	for _, line := range []string{`{"msg":"job started","jobId":"a"}`, `ops table`, `{"msg":"job started","jobId":"b"}`} {
		l.Add(line)
	}
	if got := l.Matching(`"job started"`, `"b"`); !slices.Equal(got, []string{`{"msg":"job started","jobId":"b"}`}) {
		t.Errorf("Matching(job started, b) = %q; want the one line with both", got)
	}
	if got := l.Matching(`"job started"`); len(got) != 2 {
		t.Errorf("Matching(job started) = %q; want two lines", got)
	}
	if got := l.From("ops"); !slices.Equal(got, []string{`ops table`, `{"msg":"job started","jobId":"b"}`}) {
		t.Errorf("From(ops) = %q; want the line that starts with it and every line after", got)
	}
	if got := l.From("nothing"); got != nil {
		t.Errorf("From(nothing) = %q; want nil", got)
	}
	var dumped bytes.Buffer
	l.Dump(&dumped)
	if dumped.String() != copied.String() || bytes.Count(copied.Bytes(), []byte("\n")) != 3 {
		t.Errorf("Dump wrote %q, Copy received %q; want the three lines in both", dumped.String(), copied.String())
	}
}
