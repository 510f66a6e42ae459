package imports

import (
	"errors"
	"fmt"
	"io"
)

// windows streams an object from an offset to its end as consecutive bounded Range GETs
// (windows), each twice as long as the one before, opening one only when the reader needs its
// first byte. S3 then sends about what the invocation reads: at most its last window more. A
// single open-ended Range GET would let S3 send the rest of the file into the connection's
// buffers, all of it thrown away when the invocation hands over.
type windows struct {
	// open starts a Range GET of length bytes from offset (Objects.Open for one import).
	open func(offset, length int64) (io.ReadCloser, error)
	// body is the open window, nil between windows.
	body io.ReadCloser
	// offset is the next byte to read, end the end of the open window, size the end of the object.
	offset, end, size int64
	// length is the length of the next window.
	length int64
}

// next opens the window that starts at offset.
func (w *windows) next() error {
	n := min(w.length, w.size-w.offset)
	body, err := w.open(w.offset, n)
	if err != nil {
		return err
	}
	w.body, w.end, w.length = body, w.offset+n, 2*w.length
	return nil
}

func (w *windows) Read(p []byte) (int, error) {
	for {
		if w.body == nil {
			if w.offset >= w.size {
				return 0, io.EOF
			}
			if err := w.next(); err != nil {
				return 0, err
			}
		}
		n, err := w.body.Read(p)
		w.offset += int64(n)
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		// The window ended: the next Read opens the following one. The body is read to its end,
		// so closing it fails only if the connection does, which loses nothing read.
		_ = w.body.Close()
		w.body = nil
		if w.offset < w.end {
			// Fewer bytes than asked for, with no error: reading on would hide a truncated
			// stream, so the read fails and Lambda's retry resumes at the checkpoint.
			return n, fmt.Errorf("range ended at byte %d, want %d: %w", w.offset, w.end, io.ErrUnexpectedEOF)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// Close closes the open window, if any.
func (w *windows) Close() error {
	if w.body == nil {
		return nil
	}
	err := w.body.Close()
	w.body = nil
	return err
}
