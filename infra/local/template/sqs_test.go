package template

import (
	"slices"
	"testing"
)

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		v      Value
		want   float64
		wantOK bool
	}{
		{v: 20, want: 20, wantOK: true},
		{v: int64(3), want: 3, wantOK: true},
		{v: 1.5, want: 1.5, wantOK: true},
		{v: " 10 ", want: 10, wantOK: true},
		{v: "10x"},
		{v: "NaN"},
		{v: "Inf"},
		{v: map[string]Value{"Ref": "Window"}},
		{v: nil},
	} {
		got, ok := Number(tt.v)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.wantOK)
		}
	}
}

// A template rule reads the properties as written: a window given by an intrinsic is not known,
// so it neither satisfies nor breaks what a BatchSize above 10 needs.
func TestSQSEventRefusalsLeaveAnUnresolvedWindowAlone(t *testing.T) {
	props := map[string]Value{"BatchSize": 20, "MaximumBatchingWindowInSeconds": map[string]Value{"Ref": "Window"}}
	if got := SQSEventRefusals(props, false); len(got) != 0 {
		t.Errorf("SQSEventRefusals(BatchSize 20, window !Ref) = %q; want none", got)
	}
	props = map[string]Value{"BatchSize": "NaN"}
	if got := SQSEventRefusals(props, false); !slices.Contains(got, `BatchSize "NaN" is not a number`) {
		t.Errorf("SQSEventRefusals(BatchSize NaN) = %q; want it refused as no number", got)
	}
	props = map[string]Value{"BatchSize": 20}
	if got := SQSEventRefusals(props, false); !slices.ContainsFunc(got, func(s string) bool { return s != "" }) {
		t.Errorf("SQSEventRefusals(BatchSize 20, no window) = %q; want a refusal", got)
	}
}
