package imports

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// utf8BOM is the UTF-8 byte-order mark some editors (Excel's "CSV UTF-8" among them) write first.
const utf8BOM = "\xef\xbb\xbf"

// TestByteOrderMarkAtTheStartIsNotData: a UTF-8 byte-order mark at byte 0 is skipped and counted
// as done, so a CSV header after it is still the header and the first NDJSON record still parses.
func TestByteOrderMarkAtTheStartIsNotData(t *testing.T) {
	tests := []struct {
		name, key, body string
		wantAccepted    int64
		wantLine        int64
	}{
		{name: "CSV with a header", key: "bom.csv", body: utf8BOM + "id,customer,amount,currency\r\no-1,Ada,1,EUR\r\no-2,Bob,2,EUR\r\n", wantAccepted: 2, wantLine: 3},
		{name: "CSV without a header", key: "bom2.csv", body: utf8BOM + "o-1,Ada,1,EUR\no-2,Bob,2,EUR", wantAccepted: 2, wantLine: 2},
		{name: "NDJSON", key: "bom.ndjson", body: utf8BOM + `{"id":"o-1","customer":"Ada","amount":1,"currency":"EUR"}` + "\n", wantAccepted: 1, wantLine: 1},
		{name: "nothing but the mark", key: "bom3.csv", body: utf8BOM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			obj := objects.put("bucket", "imports/alice/"+tt.key, []byte(tt.body))
			c := newChain(t, store, objects)
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status != StatusSucceeded || got.Accepted != tt.wantAccepted || got.Rejected != 0 || got.Line != tt.wantLine || got.Offset != obj.Size {
				t.Fatalf("import = %s, %d accepted, %d rejected, line %d, byte %d/%d; want SUCCEEDED, %d accepted, none rejected, line %d, at the end",
					got.Status, got.Accepted, got.Rejected, got.Line, got.Offset, obj.Size, tt.wantAccepted, tt.wantLine)
			}
			if o := store.ordersOf(imp.ID)[tt.wantLine]; tt.wantAccepted > 0 && strings.HasPrefix(o.OrderID, "\ufeff") {
				t.Errorf("order %+v keeps the byte-order mark", o)
			}
		})
	}
}

// TestByteOrderMarkElsewhereIsData: only byte 0 may hold the mark. A line that starts with one
// further on is data (and here, a rejected id), also when a link of the chain resumes exactly
// at that line: a resumed offset is never the start of the file.
func TestByteOrderMarkElsewhereIsData(t *testing.T) {
	body := "o-1,Ada,1,EUR\n" + utf8BOM + "o-2,Bob,2,EUR\no-3,Cy,3,EUR\n"
	for _, maxLines := range []int64{0, 1} { // one link, or a link per line (one resumes at the mark)
		t.Run(fmt.Sprintf("max %d lines a link", maxLines), func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			obj := objects.put("bucket", "imports/alice/mid.csv", []byte(body))
			c := newChain(t, store, objects)
			c.proc.BatchLines, c.proc.MaxLines = 1, maxLines
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status != StatusSucceeded || got.Accepted != 2 || got.Rejected != 1 || got.Offset != obj.Size {
				t.Fatalf("import = %s, %d accepted, %d rejected, byte %d/%d; want SUCCEEDED, 2, 1 (line 2), at the end", got.Status, got.Accepted, got.Rejected, got.Offset, obj.Size)
			}
			if _, ok := store.ordersOf(imp.ID)[2]; ok {
				t.Error("line 2 imported; want it rejected: a mark after byte 0 is data")
			}
			if maxLines == 1 && !containsOffset(objects.opens, int64(len("o-1,Ada,1,EUR\n"))) {
				t.Errorf("links opened the file at %v; want one resuming at the mark", objects.opens)
			}
		})
	}
}

func containsOffset(opens []byteRange, want int64) bool {
	for _, o := range opens {
		if o.offset == want {
			return true
		}
	}
	return false
}

// TestChainGuardRecordsAPlainSentence: the failure FailImportFunction records comes from Lambda's
// destination record, whose error text is whatever the last attempt returned (SDK errors with
// bucket names and request ids). The caller sees where the chain broke, in words; the cause is
// for the logs.
func TestChainGuardRecordsAPlainSentence(t *testing.T) {
	store := newMemStore()
	imp := Import{ID: "i-1", Owner: "alice", Status: StatusRunning, Bucket: "imports-bucket-123", Key: "imports/alice/a.csv", Size: 1000, Offset: 500, Line: 20, Depth: 3}
	if err := store.Create(context.Background(), imp); err != nil {
		t.Fatal(err)
	}
	cause := "RetriesExhausted after 3 attempts (Runtime.ExitError: get s3://imports-bucket-123/imports/alice/a.csv from byte 500: operation error S3: GetObject, https response error StatusCode: 403, RequestID: REQ-9, api error AccessDenied)"
	failed, err := ChainGuard{Store: store, Now: newFakeClock().Now}.Broken(context.Background(), Link{ImportID: "i-1", Depth: 3}, cause)
	if err != nil || !failed {
		t.Fatalf("Broken = %v, %v; want the import failed", failed, err)
	}
	got := get(t, store, "i-1")
	want := "the import chain broke at byte 500 (line 20) of 1000: it could not continue after every retry"
	if got.Status != StatusFailed || got.Failure != want {
		t.Errorf("import = %s %q; want FAILED %q", got.Status, got.Failure, want)
	}
}
