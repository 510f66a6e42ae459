package fanout

import "testing"

func TestSinkMessage(t *testing.T) {
	body := EncodeSinkMessage(batchID)
	if want := `{"batchId":"` + batchID + `"}`; body != want {
		t.Errorf("EncodeSinkMessage() = %s, want %s", body, want)
	}
	if got, err := DecodeSinkMessage(body); err != nil || got != batchID {
		t.Errorf("DecodeSinkMessage(%s) = %q, %v; want %q, nil", body, got, err, batchID)
	}
	for _, bad := range []string{``, `{}`, `not json`, `{"batchId":"../other"}`} {
		if got, err := DecodeSinkMessage(bad); err == nil {
			t.Errorf("DecodeSinkMessage(%q) = %q, nil; want an error", bad, got)
		}
	}
}
