package uploads

import (
	"bytes"
	"testing"
)

// BenchmarkCheckText measures the content check of a text upload, which reads the whole body:
// 1 MiB of CSV per op (b.SetBytes makes the result a throughput).
func BenchmarkCheckText(b *testing.B) {
	body := bytes.Repeat([]byte("id,name,amount\n1,Zoë Müller,12.50\n2,日本語,7\n"), 1<<20/48)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if reason, err := CheckText("text/csv", bytes.NewReader(body)); reason != "" || err != nil {
			b.Fatalf("CheckText = %q, %v; want text", reason, err)
		}
	}
}
