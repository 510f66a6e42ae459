package pricing

import (
	"errors"
	"testing"

	"github.com/go-serverless/reference/shared/invalid"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		name    string
		engine  Engine
		req     Request
		want    int64
		wantErr error
	}{
		{name: "v1 list price", engine: V1, req: Request{SKU: "TEA-001", Quantity: 1}, want: 450},
		{name: "v1 ignores volume and plan", engine: V1, req: Request{SKU: "TEA-001", Quantity: 100, Plan: "pro"}, want: 45000},
		{name: "v2 single item", engine: V2, req: Request{SKU: "TEA-001", Quantity: 1}, want: 450},
		{name: "v2 volume 10", engine: V2, req: Request{SKU: "TEA-002", Quantity: 10}, want: 6887}, // 362.5 off rounds to 363
		{name: "v2 volume 100", engine: V2, req: Request{SKU: "MUG-001", Quantity: 100}, want: 116910},
		{name: "v2 pro plan", engine: V2, req: Request{SKU: "POT-001", Quantity: 1, Plan: "pro"}, want: 3277}, // 172.5 off rounds to 173
		{name: "v2 pro and volume", engine: V2, req: Request{SKU: "TEA-001", Quantity: 100, Plan: "pro"}, want: 38250},
		{name: "bad sku", engine: V1, req: Request{SKU: "tea-001", Quantity: 1}, wantErr: ErrInvalidSKU},
		{name: "unknown sku", engine: V2, req: Request{SKU: "ZZZ-999", Quantity: 1}, wantErr: ErrUnknownSKU},
		{name: "zero quantity", engine: V1, req: Request{SKU: "TEA-001"}, wantErr: ErrInvalidQuantity},
		{name: "too many", engine: V1, req: Request{SKU: "TEA-001", Quantity: MaxQuantity + 1}, wantErr: ErrInvalidQuantity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Quote(tt.engine, tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if got.Amount != tt.want || got.Engine != tt.engine || got.Currency != Currency || got.Quantity != tt.req.Quantity {
				t.Errorf("Quote = %+v; want amount %d by %s", got, tt.want, tt.engine)
			}
		})
	}
}

func TestQuoteUnknownEngine(t *testing.T) {
	if _, err := Quote("v3", Request{SKU: "TEA-001", Quantity: 1}); err == nil {
		t.Error("Quote with engine v3 succeeded; want an error")
	}
}

func TestParseEngine(t *testing.T) {
	for in, want := range map[string]bool{"v1": true, "v2": true, "": false, "V2": false, "v3": false} {
		if _, ok := ParseEngine(in); ok != want {
			t.Errorf("ParseEngine(%q) ok = %v; want %v", in, ok, want)
		}
	}
}

// TestValidateKnowsTheCatalogue: a quote is validated when it is asked for; an SKU no product has
// must be refused then, not accepted and found unpriceable by the worker (which dead-lettered it
// and left GET /quotes/{id} at 404 for ever).
func TestValidateKnowsTheCatalogue(t *testing.T) {
	tests := []struct {
		req       Request
		wantErr   error
		wantField string
	}{
		{Request{SKU: "MUG-001", Quantity: 1}, nil, ""},
		{Request{SKU: "ZZZ-999", Quantity: 1}, ErrUnknownSKU, "sku"},
		{Request{SKU: "mug", Quantity: 1}, ErrInvalidSKU, "sku"},
		{Request{SKU: "MUG-001", Quantity: 0}, ErrInvalidQuantity, "quantity"},
	}
	for _, tt := range tests {
		err := tt.req.Validate()
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Validate(%+v) = %v; want %v", tt.req, err, tt.wantErr)
			continue
		}
		if p, ok := errors.AsType[*invalid.Param](err); tt.wantErr != nil && (!ok || p.Name != tt.wantField) {
			t.Errorf("Validate(%+v) = %v; want it to name %s", tt.req, err, tt.wantField)
		}
	}
}
