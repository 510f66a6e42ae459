package uploads

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

// utf16LE encodes s as UTF-16 little-endian, as Windows tools write "Unicode" text.
func utf16LE(s string, bom bool) []byte {
	var b bytes.Buffer
	if bom {
		b.WriteString("\xff\xfe")
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.Bytes()
}

// textUpload declares body as fileName of contentType for alice.
func textUpload(contentType string, body []byte) Upload {
	u := pendingUpload(body)
	u.FileName, u.ContentType = "notes.txt", contentType
	u.Key = ObjectKey("alice", uploadID, u.FileName)
	return u
}

// TestVerifyChecksTheWholeTextBody: a file declared as text is read to its end, streamed, and
// refused when it holds markup a browser would parse as a tag (anywhere, not only in the first
// 512 bytes), when it is not UTF-8 (UTF-16, with or without a byte-order mark, or invalid
// bytes), or when it holds control characters no text file has.
func TestVerifyChecksTheWholeTextBody(t *testing.T) {
	prose := strings.Repeat("Grüße aus Köln, a < b and c > d; 5<6 & \"quotes\" are fine.\n", 20) // > 512 bytes
	tests := []struct {
		name, contentType string
		body              []byte
		wantRejected      bool
		wantReason        string
	}{
		{name: "plain text", contentType: "text/plain", body: []byte(prose)},
		{name: "UTF-8 with a byte-order mark", contentType: "text/plain", body: []byte("\xef\xbb\xbf" + prose)},
		{name: "CSV", contentType: "text/csv", body: []byte("id,name,amount\n1,Zoë,12.50\n2,\"Lovelace, Ada\",<5\n")},
		{name: "img onerror", contentType: "text/plain", body: []byte("hello <img src=x onerror=alert(1)>"), wantRejected: true, wantReason: "markup"},
		{name: "svg onload", contentType: "text/plain", body: []byte("<svg onload=alert(1)>"), wantRejected: true, wantReason: "markup"},
		{name: "script after byte 512", contentType: "text/plain", body: []byte(prose + "<script>alert(1)</script>\n"), wantRejected: true, wantReason: "markup"},
		{name: "iframe in a CSV field", contentType: "text/csv", body: []byte(prose + "3,<iframe src=//evil>,1\n"), wantRejected: true, wantReason: "markup"},
		{name: "closing tag", contentType: "text/plain", body: []byte(prose + "</title><b>x"), wantRejected: true, wantReason: "markup"},
		{name: "HTML comment", contentType: "text/plain", body: []byte(prose + "<!-- x -->"), wantRejected: true, wantReason: "markup"},
		{name: "custom element with a handler", contentType: "text/plain", body: []byte(prose + "<x-a onmouseover=alert(1)>hover</x-a>"), wantRejected: true, wantReason: "markup"},
		{name: "UTF-16 HTML with a byte-order mark", contentType: "text/plain", body: utf16LE("<html><script>alert(1)</script></html>", true), wantRejected: true, wantReason: "UTF-16"},
		{name: "UTF-16 big-endian mark", contentType: "text/plain", body: append([]byte("\xfe\xff"), []byte("\x00h\x00i")...), wantRejected: true, wantReason: "UTF-16"},
		{name: "UTF-16 without a mark", contentType: "text/plain", body: utf16LE("hello <script>alert(1)</script>", false), wantRejected: true},
		{name: "UTF-32 mark", contentType: "text/plain", body: []byte("\xff\xfe\x00\x00h\x00\x00\x00"), wantRejected: true, wantReason: "UTF-32"},
		{name: "invalid UTF-8 after byte 512", contentType: "text/plain", body: []byte(prose + "caf\xe9\n"), wantRejected: true, wantReason: "UTF-8"},
		{name: "UTF-8 cut short at the end", contentType: "text/plain", body: []byte(prose + "\xe6\x97"), wantRejected: true, wantReason: "UTF-8"},
		{name: "NUL after byte 512", contentType: "text/plain", body: []byte(prose + "a\x00b"), wantRejected: true, wantReason: "control"},
		{name: "HTML at the start", contentType: "text/csv", body: []byte("<!DOCTYPE html><p>hi"), wantRejected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := textUpload(tt.contentType, tt.body)
			var calls []string
			objects := newMemObjects(&calls)
			objects.put(u.Key, tt.contentType, tt.body)
			store := newMemStore(u)
			v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: quietLog()}
			outcome, err := v.Verify(context.Background(), u.Key)
			want := OutcomeAvailable
			if tt.wantRejected {
				want = OutcomeRejected
			}
			if err != nil || outcome != want {
				t.Fatalf("Verify = %s, %v; want %s", outcome, err, want)
			}
			if got := store.uploads[uploadID].Reason; !strings.Contains(got, tt.wantReason) {
				t.Errorf("reason = %q; want one about %q", got, tt.wantReason)
			}
		})
	}
}

// TestVerifyBinaryTypesCheckTheirSignatureOnly pins what the check of PNG, JPEG and PDF promises:
// the body starts with the type's magic number, and no more. A PNG signature followed by HTML
// is a PNG as far as a signature check goes; what makes it harmless is that downloads are
// attachments served with the declared type: a browser saves it instead of rendering it.
func TestVerifyBinaryTypesCheckTheirSignatureOnly(t *testing.T) {
	tests := []struct {
		contentType string
		body        string
		want        Outcome
	}{
		{"image/png", "\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", OutcomeAvailable},
		{"application/pdf", "%PDF-1.7\n<script>alert(1)</script>", OutcomeAvailable},
		{"image/jpeg", "\xff\xd8\xff<svg onload=alert(1)>", OutcomeAvailable},
		{"image/png", "<html>\x89PNG\r\n\x1a\n", OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %.12q", tt.contentType, tt.body), func(t *testing.T) {
			u := pendingUpload([]byte(tt.body))
			u.ContentType = tt.contentType
			var calls []string
			objects := newMemObjects(&calls)
			objects.put(u.Key, tt.contentType, []byte(tt.body))
			v := Verifier{Store: newMemStore(u), Objects: objects, Now: fixedNow, Log: quietLog()}
			if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != tt.want {
				t.Errorf("Verify = %s, %v; want %s", outcome, err, tt.want)
			}
		})
	}
}
