package uploads

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The content check, after size, type and checksum have matched the declaration. What it
// promises, per declared type:
//
//   - image/png, image/jpeg, application/pdf: the body starts with the type's signature (magic
//     number). That is all. A PNG signature followed by HTML is a PNG as far as this check goes;
//     it does not parse or validate the rest of the file. Such a file is harmless because of how
//     it is served, not because of this check: downloads are signed GETs whose answer carries
//     Content-Disposition: attachment and the declared Content-Type, so a browser saves it
//     instead of rendering it. (S3 cannot add X-Content-Type-Options: nosniff to that answer; a
//     CloudFront response headers policy in front of the bucket could.)
//   - text/plain, text/csv: the whole body is read, streamed in fixed-size chunks (memory does not
//     grow with the file), and must be UTF-8 text without markup: no byte-order mark but UTF-8's
//     (UTF-16 and UTF-32 are refused, with or without a mark), valid UTF-8 to the last byte, no
//     control characters other than tab, line feed, form feed, carriage return and escape (a NUL
//     is how UTF-16 without a mark shows), and no "<" that an HTML parser would read as the start
//     of a tag, an end tag, a comment or a declaration: "<" followed by an ASCII letter, "/", "!"
//     or "?". That one rule covers <script, <svg, <img, <iframe, <html, custom elements, and
//     every on...= handler and javascript: URL, since those act only inside a tag. "<" followed
//     by anything else ("a < b", "<5", "<=") is text. The first SniffBytes bytes must also sniff
//     as text/plain to net/http.DetectContentType, which refuses, for example, a PDF or a ZIP
//     declared as text.
//
// It does not promise that a text file is safe in every program: a CSV cell starting with "="
// is still a formula to a spreadsheet, and a text file is still whatever its reader makes of it.

// SniffBytes is how much of a binary object the verifier reads for its signature, and how much
// of a text object net/http.DetectContentType looks at.
const SniffBytes = 512

// textChunk is how much of a text body is checked at a time.
const textChunk = 32 * 1024

// signature returns the magic number a binary media type starts with, nil for other types.
func signature(mediaType string) []byte {
	switch mediaType {
	case "image/png":
		return []byte("\x89PNG\r\n\x1a\n")
	case "image/jpeg":
		return []byte{0xFF, 0xD8, 0xFF}
	case "application/pdf":
		return []byte("%PDF-")
	}
	return nil
}

// IsText reports whether a media type is checked as text, by reading the whole body, rather than
// by its signature.
func IsText(mediaType string) bool {
	return mediaType == "text/plain" || mediaType == "text/csv"
}

// CheckSignature says why head, the first bytes of a body declared as a binary type, is not of
// that type, or "" when it starts with the type's signature. A type with no signature is refused.
func CheckSignature(declared string, head []byte) string {
	sig := signature(declared)
	if sig == nil {
		return fmt.Sprintf("content type %s has no content check", declared)
	}
	if !bytes.HasPrefix(head, sig) {
		return fmt.Sprintf("content does not look like %s: it does not start with the %s signature", declared, declared)
	}
	return ""
}

// CheckText reads body, declared as the text type declared, to its end and says why it is not
// plain UTF-8 text without markup (see the rules above), or "" when it is. Only an error reading
// body is an error; the reason names the first offending byte's offset, never the content.
func CheckText(declared string, body io.Reader) (reason string, err error) {
	r := bufio.NewReaderSize(body, textChunk)
	head, err := r.Peek(SniffBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the start of the body: %w", err)
	}
	if why := byteOrderMark(head); why != "" {
		return notText(declared, why), nil
	}
	if !strings.HasPrefix(http.DetectContentType(head), "text/plain") {
		return notText(declared, "its first bytes are not plain text"), nil
	}
	var s textScan
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = r.Discard(len(utf8BOM)) // peeked: cannot fail
		s.offset = int64(len(utf8BOM))
	}
	buf := make([]byte, textChunk+utf8.UTFMax)
	carry := 0 // bytes of an incomplete UTF-8 sequence kept at buf's start from the last chunk
	for {
		n, err := r.Read(buf[carry:])
		chunk := buf[:carry+n]
		complete := len(chunk) - incompleteSuffix(chunk)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the body at byte %d: %w", s.offset+int64(len(chunk)), err)
		}
		if errors.Is(err, io.EOF) {
			complete = len(chunk) // whatever is left must stand on its own
		}
		if why := s.scan(chunk[:complete]); why != "" {
			return notText(declared, why), nil
		}
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		carry = copy(buf, chunk[complete:])
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// byteOrderMark says what head's byte-order mark shows that UTF-8 text cannot be, or "".
func byteOrderMark(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe\x00\x00")), bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")):
		return "it is UTF-32 (it starts with a UTF-32 byte-order mark); text must be UTF-8"
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return "it is UTF-16 (it starts with a UTF-16 byte-order mark); text must be UTF-8"
	}
	return ""
}

func notText(declared, why string) string {
	return fmt.Sprintf("content does not look like %s: %s", declared, why)
}

// incompleteSuffix returns how many bytes at the end of b begin a UTF-8 sequence that b cuts
// short: they are checked with the next chunk.
func incompleteSuffix(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}

// textScan checks a text body chunk by chunk. Chunks hold whole UTF-8 sequences; a "<" at the end
// of one chunk is judged by the first byte of the next.
type textScan struct {
	offset int64 // of the chunk's first byte in the body
	lt     bool  // the previous chunk ended with "<"
}

// scan says why chunk is not plain text, or "".
func (s *textScan) scan(chunk []byte) string {
	if !utf8.Valid(chunk) {
		bad := 0
		for bad < len(chunk) {
			r, size := utf8.DecodeRune(chunk[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return fmt.Sprintf("byte %d is not valid UTF-8; text must be UTF-8", s.offset+int64(bad))
	}
	for i, c := range chunk {
		switch {
		case s.lt && opensTag(c):
			return fmt.Sprintf("it contains markup (a tag starts at byte %d)", s.offset+int64(i)-1)
		case isControl(c):
			return fmt.Sprintf("byte %d is a control character (0x%02x) no text holds", s.offset+int64(i), c)
		}
		s.lt = c == '<'
	}
	s.offset += int64(len(chunk))
	return ""
}

// opensTag reports whether c, after "<", makes an HTML parser start a tag ("<a", "</"), a
// comment or declaration ("<!") or a processing instruction ("<?").
func opensTag(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// isControl reports whether c is a control character text does not hold: the bytes
// net/http.DetectContentType counts as binary (NUL to BS, VT, SO to SUB, FS to US). Tab, line
// feed, form feed, carriage return and escape are text.
func isControl(c byte) bool {
	return c <= 0x08 || c == 0x0B || 0x0E <= c && c <= 0x1A || 0x1C <= c && c <= 0x1F
}
