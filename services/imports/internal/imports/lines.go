package imports

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line; a longer one is rejected and skipped, never held in memory whole.
const MaxLineBytes = 64 * 1024

// lineReader reads a stream line by line and knows the byte offset and number of each line, so
// a checkpoint always names the start of a line: the next invocation's Range GET begins there,
// and a multi-byte character is never split between two invocations.
type lineReader struct {
	r *bufio.Reader
	// offset is the byte offset of the next line in the object, line the number of the last line read.
	offset int64
	line   int64
}

// rawLine is one line: its number, its text without the line ending (valid until the next read),
// and whether it was too long to keep.
type rawLine struct {
	number  int64
	text    []byte
	tooLong bool
}

func newLineReader(r io.Reader, offset, line int64) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, MaxLineBytes), offset: offset, line: line}
}

// next returns the next line; io.EOF when the stream has no more. A last line without a
// trailing newline is a line.
func (l *lineReader) next() (rawLine, error) {
	text, err := l.r.ReadSlice('\n')
	n := int64(len(text))
	tooLong := false
	if errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		skipped, serr := l.skipLine()
		n += skipped
		err = serr
		text = nil // overwritten by skipLine; the line is rejected by its length alone
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return rawLine{}, fmt.Errorf("read line %d: %w", l.line+1, err)
	}
	if n == 0 {
		return rawLine{}, io.EOF
	}
	l.offset += n
	l.line++
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	return rawLine{number: l.line, text: text, tooLong: tooLong}, nil
}

// skipLine discards the rest of an over-long line, through its newline, and returns how many
// bytes it discarded.
func (l *lineReader) skipLine() (int64, error) {
	var n int64
	for {
		chunk, err := l.r.ReadSlice('\n')
		n += int64(len(chunk))
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return n, err
	}
}

// byteOrderMark is the UTF-8 encoding of U+FEFF, which some editors write at the start of a
// UTF-8 file (Excel's "CSV UTF-8" does).
var byteOrderMark = []byte("\xef\xbb\xbf")

// skipByteOrderMark skips a UTF-8 byte-order mark at byte 0 of the object and counts its bytes
// as read, so the checkpoint moves past it: a header line after it is still line 1 and still a
// header. Only the start of the object can hold one: a reader that resumes at a later offset (a
// link of the chain) leaves the bytes there to the line they begin.
func (l *lineReader) skipByteOrderMark() error {
	if l.offset != 0 {
		return nil
	}
	start, err := l.r.Peek(len(byteOrderMark))
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the start of the file: %w", err)
	}
	if bytes.Equal(start, byteOrderMark) {
		l.offset += int64(len(byteOrderMark))
		_, _ = l.r.Discard(len(byteOrderMark)) // peeked: cannot fail
	}
	return nil
}

// atEOF reports whether the stream has nothing left, without consuming anything.
func (l *lineReader) atEOF() (bool, error) {
	_, err := l.r.Peek(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read after line %d: %w", l.line, err)
	}
	return false, nil
}
