package imports

import (
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name       string
		format     Format
		line       int64
		text       string
		want       Order
		wantReason string // a substring; "" means accepted
		wantSkip   bool
	}{
		{name: "csv", format: FormatCSV, line: 2, text: "o-1,Ada,1250,EUR", want: Order{Line: 2, OrderID: "o-1", Customer: "Ada", Amount: 1250, Currency: "EUR"}},
		{name: "csv spaces trimmed", format: FormatCSV, line: 2, text: " o-1 , Ada , 5 , GBP ", want: Order{Line: 2, OrderID: "o-1", Customer: "Ada", Amount: 5, Currency: "GBP"}},
		{name: "csv quoted", format: FormatCSV, line: 3, text: `o-2,"Lovelace, ""Ada""",7,EUR`, want: Order{Line: 3, OrderID: "o-2", Customer: `Lovelace, "Ada"`, Amount: 7, Currency: "EUR"}},
		{name: "csv header on line 1", format: FormatCSV, line: 1, text: "ID,Customer,Amount,Currency", wantSkip: true},
		{name: "csv header elsewhere", format: FormatCSV, line: 9, text: "id,customer,amount,currency", wantReason: "amount"},
		{name: "csv open quote", format: FormatCSV, line: 2, text: `o-1,"Ada,1,EUR`, wantReason: "malformed CSV"},
		{name: "blank", format: FormatCSV, line: 4, text: "  \t", wantSkip: true},
		{name: "ndjson", format: FormatNDJSON, line: 1, text: `{"id":"o-1","customer":"日本","amount":99,"currency":"JPY"}`, want: Order{Line: 1, OrderID: "o-1", Customer: "日本", Amount: 99, Currency: "JPY"}},
		{name: "ndjson float", format: FormatNDJSON, line: 1, text: `{"id":"o-1","customer":"A","amount":9.5,"currency":"JPY"}`, wantReason: "whole number"},
		{name: "ndjson string amount", format: FormatNDJSON, line: 1, text: `{"id":"o-1","customer":"A","amount":"9","currency":"JPY"}`, wantReason: "wrong type"},
		{name: "ndjson two values", format: FormatNDJSON, line: 1, text: `{"id":"o-1","customer":"A","amount":9,"currency":"JPY"} {}`, wantReason: "more than one value"},
		{name: "ndjson not an object", format: FormatNDJSON, line: 1, text: `[1,2]`, wantReason: "malformed JSON"},
		// Strict like every request body: a name in another case is unknown, a name twice is refused.
		{name: "ndjson name in another case", format: FormatNDJSON, line: 1, text: `{"id":"o1","customer":"c","amount":1,"Amount":1000,"currency":"EUR"}`, wantReason: `unknown field "Amount"`},
		{name: "ndjson upper-case names", format: FormatNDJSON, line: 1, text: `{"ID":"o1","CUSTOMER":"c","AMOUNT":7,"CURRENCY":"EUR"}`, wantReason: "unknown field"},
		{name: "ndjson name twice", format: FormatNDJSON, line: 1, text: `{"id":"o1","customer":"c","amount":1,"amount":999,"currency":"EUR"}`, wantReason: "field amount appears more than once"},
		{name: "ndjson unknown field", format: FormatNDJSON, line: 1, text: `{"id":"o1","customer":"c","amount":1,"currency":"EUR","note":"x"}`, wantReason: `unknown field "note"`},
		{name: "ndjson null amount", format: FormatNDJSON, line: 1, text: `{"id":"o1","customer":"c","amount":null,"currency":"EUR"}`, wantReason: "whole number"},
		{name: "zero amount", format: FormatCSV, line: 2, text: "o-1,A,0,EUR", wantReason: "out of range"},
		{name: "huge amount", format: FormatCSV, line: 2, text: "o-1,A,99999999999999999999,EUR", wantReason: "whole number"},
		{name: "lower-case currency", format: FormatCSV, line: 2, text: "o-1,A,1,eur", wantReason: "ISO 4217"},
		{name: "long id", format: FormatCSV, line: 2, text: strings.Repeat("x", 65) + ",A,1,EUR", wantReason: "id is longer"},
		{name: "invalid UTF-8", format: FormatCSV, line: 2, text: "o-1,\xc3\x28,1,EUR", wantReason: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, skip := parseLine(tt.format, tt.line, []byte(tt.text))
			if skip != tt.wantSkip {
				t.Fatalf("skip = %v; want %v", skip, tt.wantSkip)
			}
			if tt.wantReason == "" && reason != "" || !strings.Contains(reason, tt.wantReason) {
				t.Fatalf("reason = %q; want %q", reason, tt.wantReason)
			}
			if tt.wantReason == "" && !tt.wantSkip && got != tt.want {
				t.Errorf("order = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestKeyRules(t *testing.T) {
	if owner, ok := OwnerOf("imports/alice/orders.csv"); !ok || owner != "alice" {
		t.Errorf("OwnerOf = %q, %v; want alice", owner, ok)
	}
	for _, key := range []string{"imports/alice", "imports//a.csv", "imports/alice/", "uploads/alice/a.csv"} {
		if _, ok := OwnerOf(key); ok {
			t.Errorf("OwnerOf(%q) ok; want no owner", key)
		}
	}
	if ID("b", "k", `"e"`) != ID("b", "k", "e") || ID("b", "k", "e") == ID("b", "k", "f") {
		t.Error("ID must ignore ETag quotes and differ between versions")
	}
}
