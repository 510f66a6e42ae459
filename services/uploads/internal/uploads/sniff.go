package uploads

import (
	"bytes"
	"net/http"
	"strings"
)

// SniffBytes is how much of an object Sniff needs: net/http.DetectContentType reads at most 512 bytes.
const SniffBytes = 512

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

// Sniff reports whether the first bytes of a body are plausible for the declared media type:
// binary types must start with their signature; text types must look like plain text to
// net/http's sniffer (so a binary, or HTML at the start, declared as text is refused) and must
// not contain <html or <script (any case) in their first SniffBytes bytes. A checksum proves the
// body is the one declared; this proves the declaration is not a lie about what it is. It is a
// second line: the first is that downloads are served as attachments with the declared type.
func Sniff(declared string, head []byte) bool {
	if sig := signature(declared); sig != nil {
		return bytes.HasPrefix(head, sig)
	}
	switch declared {
	case "text/plain", "text/csv":
		if !strings.HasPrefix(http.DetectContentType(head), "text/plain") {
			return false
		}
		// net/http's sniffer recognises HTML only at the start: "hi\n<html><script>" is text to it.
		lower := bytes.ToLower(head[:min(len(head), SniffBytes)])
		return !bytes.Contains(lower, []byte("<html")) && !bytes.Contains(lower, []byte("<script"))
	}
	return false
}
