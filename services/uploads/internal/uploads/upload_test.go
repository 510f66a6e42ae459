package uploads

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/go-serverless/reference/shared/invalid"
)

// validSHA256 is the base64 SHA-256 of "hello".
const validSHA256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="

func policy() Policy { return Policy{AllowedTypes: DefaultAllowedTypes(), MaxSize: 100} }

func TestValidate(t *testing.T) {
	ok := Request{FileName: "photo.png", ContentType: "image/png", Size: 5, SHA256: validSHA256}
	tests := []struct {
		name  string
		edit  func(*Request)
		field string // "" when valid
	}{
		{name: "valid", edit: func(*Request) {}},
		{name: "unicode name", edit: func(r *Request) { r.FileName = "Ferien 2026 – Strand.png" }},
		{name: "name with inner dots", edit: func(r *Request) { r.FileName = "archive.tar.gz.png" }},
		{name: "largest size", edit: func(r *Request) { r.Size = 100 }},
		{name: "empty name", edit: func(r *Request) { r.FileName = "" }, field: "fileName"},
		{name: "path traversal", edit: func(r *Request) { r.FileName = "../../etc/passwd" }, field: "fileName"},
		{name: "directory", edit: func(r *Request) { r.FileName = "a/b.png" }, field: "fileName"},
		{name: "windows directory", edit: func(r *Request) { r.FileName = `C:\a\b.png` }, field: "fileName"},
		{name: "dot dot", edit: func(r *Request) { r.FileName = ".." }, field: "fileName"},
		{name: "dots and spaces", edit: func(r *Request) { r.FileName = ". . ." }, field: "fileName"},
		{name: "control character", edit: func(r *Request) { r.FileName = "a\x00.png" }, field: "fileName"},
		{name: "newline", edit: func(r *Request) { r.FileName = "a\n.png" }, field: "fileName"},
		{name: "C1 control character", edit: func(r *Request) { r.FileName = "a\u0085.png" }, field: "fileName"},
		{name: "right-to-left override", edit: func(r *Request) { r.FileName = "invoice\u202efdp.exe" }, field: "fileName"},
		{name: "zero-width space", edit: func(r *Request) { r.FileName = "in\u200bvoice.pdf" }, field: "fileName"},
		{name: "byte order mark", edit: func(r *Request) { r.FileName = "\ufeffa.png" }, field: "fileName"},
		{name: "replacement character", edit: func(r *Request) { r.FileName = "a\ufffd.png" }, field: "fileName"},
		{name: "right-to-left script", edit: func(r *Request) { r.FileName = "שלום.png" }},
		{name: "invalid UTF-8", edit: func(r *Request) { r.FileName = "a\xff.png" }, field: "fileName"},
		{name: "name too long", edit: func(r *Request) { r.FileName = strings.Repeat("é", MaxFileNameLength+1) }, field: "fileName"},
		{name: "type not allowed", edit: func(r *Request) { r.ContentType = "text/html" }, field: "contentType"},
		{name: "type with parameters", edit: func(r *Request) { r.ContentType = "text/plain; charset=utf-8" }, field: "contentType"},
		{name: "type in other case", edit: func(r *Request) { r.ContentType = "IMAGE/PNG" }, field: "contentType"},
		{name: "size zero", edit: func(r *Request) { r.Size = 0 }, field: "size"},
		{name: "negative size", edit: func(r *Request) { r.Size = -1 }, field: "size"},
		{name: "size over the limit", edit: func(r *Request) { r.Size = 101 }, field: "size"},
		{name: "checksum not base64", edit: func(r *Request) { r.SHA256 = "not base64!" }, field: "sha256"},
		{name: "checksum too short", edit: func(r *Request) { r.SHA256 = "aGVsbG8=" }, field: "sha256"},
		{name: "checksum hex", edit: func(r *Request) { r.SHA256 = strings.Repeat("ab", 32) }, field: "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			err := policy().Validate(in)
			bad, isInvalid := errors.AsType[*invalid.Param](err)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v; want nil", err)
			case tt.field != "" && (!isInvalid || bad.Name != tt.field):
				t.Fatalf("Validate = %v; want an *invalid.Param for %s", err, tt.field)
			}
		})
	}
}

func TestObjectKey(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		owner, name, want string
	}{
		{"alice", "photo.png", "uploads/alice/" + id + "/photo.png"},
		{"alice", "holiday photo (1).png", "uploads/alice/" + id + "/holiday_photo__1_.png"},
		{"alice", "Straße.png", "uploads/alice/" + id + "/Stra_e.png"},
		{"alice", ".hidden", "uploads/alice/" + id + "/hidden"},
		{"alice", "..x", "uploads/alice/" + id + "/x"},
		{"alice", "日本", "uploads/alice/" + id + "/__"},
		{"a/b", "x.png", "uploads/a_b/" + id + "/x.png"},
	}
	for _, tt := range tests {
		got := ObjectKey(tt.owner, id, tt.name)
		if got != tt.want {
			t.Errorf("ObjectKey(%q, %q) = %q; want %q", tt.owner, tt.name, got, tt.want)
		}
		if back, ok := IDFromKey(got); !ok || back != id {
			t.Errorf("IDFromKey(%q) = %q, %v; want %s", got, back, ok, id)
		}
	}
}

func TestIDFromKeyRefusesOtherKeys(t *testing.T) {
	for _, key := range []string{
		"uploads/alice/0123456789abcdef0123456789abcdef",
		"quarantine/alice/0123456789abcdef0123456789abcdef/x.png",
		"uploads/alice/not-an-id/x.png",
		"uploads/alice/0123456789ABCDEF0123456789ABCDEF/x.png",
		"uploads/alice/0123456789abcdef0123456789abcdef/x/y.png",
	} {
		if id, ok := IDFromKey(key); ok {
			t.Errorf("IDFromKey(%q) = %q; want refused", key, id)
		}
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if !validID(a) || !validID(b) || a == b {
		t.Errorf("NewID = %q, %q; want two distinct valid ids", a, b)
	}
}

// TestContentCheck runs each type's check: the signature for binary types, the whole body for
// text, fed one byte per Read so that every chunk boundary is met.
func TestContentCheck(t *testing.T) {
	tests := []struct {
		declared string
		head     string
		want     bool
	}{
		{"image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", true},
		{"image/png", "GIF89a", false},
		{"image/png", "this is plain text", false},
		{"image/png", "\x89PNG", false},
		{"image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", true},
		{"image/jpeg", "\x89PNG\r\n\x1a\n", false},
		{"application/pdf", "%PDF-1.7\n", true},
		{"application/pdf", "PK\x03\x04", false},
		{"text/plain", "hello, world\n", true},
		{"text/plain", "Grüße aus Köln 日本語 🎉\n", true},
		{"text/plain", "<!DOCTYPE html><html><script>alert(1)</script>", false},
		{"text/plain", "hi\n<html><script>alert(1)</script>", false},
		{"text/plain", "hi\n<SCRIPT src=x></SCRIPT>", false},
		{"text/csv", "id,name\n1,<Html>\n", false},
		{"text/plain", "a < b and c > d; scripts are fine as a word\n", true},
		{"text/plain", "x <= 5, 3<4, <> and < / > are not tags\n", true},
		{"text/plain", "a tag split over two reads: <", true},
		{"text/plain", "<?xml version=\"1.0\"?>", false},
		{"text/plain", "\x89PNG\r\n\x1a\n", false},
		{"text/plain", "binary\x00\x01\x02", false},
		{"text/plain", "tab\tform feed\fescape\x1b[0m\r\n", true},
		{"text/csv", "id,name\n1,alice\n", true},
		{"text/csv", "%PDF-1.7", false},
		{"text/plain", "", true},
		{"application/zip", "PK\x03\x04", false},
	}
	for _, tt := range tests {
		var reason string
		if IsText(tt.declared) {
			var err error
			if reason, err = CheckText(tt.declared, iotest.OneByteReader(strings.NewReader(tt.head))); err != nil {
				t.Fatalf("CheckText(%s, %q): %v", tt.declared, tt.head, err)
			}
		} else {
			reason = CheckSignature(tt.declared, []byte(tt.head))
		}
		if got := reason == ""; got != tt.want {
			t.Errorf("check(%s, %q) = %q; want accepted %v", tt.declared, tt.head, reason, tt.want)
		}
	}
}

// TestCheckTextReadErrorIsAnError: a body that cannot be read is not judged: the verification
// fails, and Lambda retries it.
func TestCheckTextReadErrorIsAnError(t *testing.T) {
	broken := io.MultiReader(strings.NewReader(strings.Repeat("fine text\n", 100)), iotest.ErrReader(io.ErrUnexpectedEOF))
	if reason, err := CheckText("text/plain", broken); !errors.Is(err, io.ErrUnexpectedEOF) || reason != "" {
		t.Errorf("CheckText of a broken stream = %q, %v; want no verdict and the read error", reason, err)
	}
}
