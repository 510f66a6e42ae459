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
// binary types must start with their signature, text types must look like plain text to
// net/http's sniffer (so HTML or a binary declared as text/plain is refused). A checksum proves
// the body is the one declared; this proves the declaration is not a lie about what it is.
func Sniff(declared string, head []byte) bool {
	if sig := signature(declared); sig != nil {
		return bytes.HasPrefix(head, sig)
	}
	switch declared {
	case "text/plain", "text/csv":
		return strings.HasPrefix(http.DetectContentType(head), "text/plain")
	}
	return false
}
