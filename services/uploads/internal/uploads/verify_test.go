package uploads

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR rest of the image")

// pendingUpload declares body as an image/png of alice.
func pendingUpload(body []byte) Upload {
	return Upload{
		ID: uploadID, Owner: "alice", FileName: "a.png", ContentType: "image/png",
		Size: int64(len(body)), SHA256: sha(body), Key: ObjectKey("alice", uploadID, "a.png"),
		Status: StatusPending, CreatedAt: t0, PurgeAt: t0.Unix() + 86400,
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name        string
		declared    []byte // the body the upload declares; pngBytes when nil
		storedType  string
		body        []byte
		wantOutcome Outcome
		wantReason  string
		wantCalls   []string
	}{
		{name: "as declared", storedType: "image/png", body: pngBytes, wantOutcome: OutcomeAvailable,
			wantCalls: []string{"head", "read", "keep", "finish AVAILABLE"}},
		{name: "other size", storedType: "image/png", body: append(slices.Clone(pngBytes), '!'), wantOutcome: OutcomeRejected, wantReason: "size",
			wantCalls: []string{"head", "delete", "finish REJECTED"}},
		{name: "other type", storedType: "application/pdf", body: pngBytes, wantOutcome: OutcomeRejected, wantReason: "content type",
			wantCalls: []string{"head", "delete", "finish REJECTED"}},
		{name: "other bytes", storedType: "image/png", body: []byte(strings.Replace(string(pngBytes), "rest", "REST", 1)), wantOutcome: OutcomeRejected, wantReason: "checksum",
			wantCalls: []string{"head", "delete", "finish REJECTED"}},
		{name: "text declared as PNG", declared: []byte("just some text here, not an image at all"), storedType: "image/png", body: []byte("just some text here, not an image at all"), wantOutcome: OutcomeRejected, wantReason: "does not look like image/png",
			wantCalls: []string{"head", "read", "delete", "finish REJECTED"}},
		{name: "object already gone", wantOutcome: OutcomeRejected, wantReason: "missing",
			wantCalls: []string{"head", "delete", "finish REJECTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := pendingUpload(pngBytes)
			if tt.declared != nil {
				u = pendingUpload(tt.declared)
			}
			var calls []string
			objects := newMemObjects(&calls)
			if tt.body != nil {
				objects.put(u.Key, tt.storedType, tt.body)
			}
			store := newMemStore(u)
			v := Verifier{Store: &loggingStore{store, &calls}, Objects: objects, Now: fixedNow, Log: quietLog()}

			outcome, err := v.Verify(context.Background(), u.Key)
			if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("Verify = %s, %v; want %s", outcome, err, tt.wantOutcome)
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %v; want %v", calls, tt.wantCalls)
			}
			got := store.uploads[uploadID]
			if got.Status != Status(tt.wantOutcome) || !strings.Contains(got.Reason, tt.wantReason) || got.VerifiedAt == nil {
				t.Errorf("upload = %s %q; want %s with a reason about %q", got.Status, got.Reason, tt.wantOutcome, tt.wantReason)
			}
			_, stillThere := objects.objects[u.Key]
			if stillThere != (tt.wantOutcome == OutcomeAvailable) || objects.kept[u.Key] != (tt.wantOutcome == OutcomeAvailable) {
				t.Errorf("object present %v, kept %v; want both only when AVAILABLE", stillThere, objects.kept[u.Key])
			}

			// The same notification again (S3 delivers at least once): the record stays as decided
			// and the object is kept or deleted again, which changes nothing.
			decided := store.uploads[uploadID]
			wantAgain := []string{"delete"}
			if tt.wantOutcome == OutcomeAvailable {
				wantAgain = []string{"keep"}
			}
			calls = nil
			if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != OutcomeDuplicate || !slices.Equal(calls, wantAgain) {
				t.Errorf("second Verify = %s, %v, calls %v; want DUPLICATE with calls %v", outcome, err, calls, wantAgain)
			}
			if got := store.uploads[uploadID]; got.Status != decided.Status || got.Reason != decided.Reason || got.VerifiedAt != decided.VerifiedAt {
				t.Errorf("after the duplicate the upload is %s %q; want it unchanged, %s %q", got.Status, got.Reason, decided.Status, decided.Reason)
			}
			if _, present := objects.objects[u.Key]; present != (tt.wantOutcome == OutcomeAvailable) || objects.kept[u.Key] != (tt.wantOutcome == OutcomeAvailable) {
				t.Errorf("after the duplicate: object present %v, kept %v; want both only when AVAILABLE", present, objects.kept[u.Key])
			}
		})
	}
}

// A signed PUT URL works until it expires, so a client retrying after a lost 200 writes the
// same body again, with the pending tag the lifecycle rule expires. Its notification finds the
// upload decided; the verifier applies the decision to the object again: an AVAILABLE upload's
// object is kept (untagged), a REJECTED upload's object is deleted.
func TestVerifyRepeatedPutAfterTheDecision(t *testing.T) {
	notPNG := []byte("just some text here, not an image at all")
	tests := []struct {
		name        string
		body        []byte
		wantOutcome Outcome
		wantCalls   []string
	}{
		{name: "AVAILABLE", body: pngBytes, wantOutcome: OutcomeAvailable, wantCalls: []string{"keep"}},
		{name: "REJECTED", body: notPNG, wantOutcome: OutcomeRejected, wantCalls: []string{"delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := pendingUpload(tt.body)
			var calls []string
			objects := newMemObjects(&calls)
			objects.put(u.Key, "image/png", tt.body)
			store := newMemStore(u)
			v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: quietLog()}
			if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != tt.wantOutcome {
				t.Fatalf("first Verify = %s, %v; want %s", outcome, err, tt.wantOutcome)
			}

			objects.put(u.Key, "image/png", tt.body) // the client's retried PUT, tagged pending again
			calls = nil
			if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != OutcomeDuplicate {
				t.Fatalf("Verify after the repeated PUT = %s, %v; want DUPLICATE", outcome, err)
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %v; want %v", calls, tt.wantCalls)
			}
			if got := store.uploads[uploadID].Status; got != Status(tt.wantOutcome) {
				t.Errorf("upload = %s; want it still %s", got, tt.wantOutcome)
			}
			_, present := objects.objects[u.Key]
			switch tt.wantOutcome {
			case OutcomeAvailable:
				if !present || !objects.kept[u.Key] {
					t.Errorf("object present %v, kept %v; want it present and untagged, or the lifecycle rule expires a file the record calls AVAILABLE", present, objects.kept[u.Key])
				}
			case OutcomeRejected:
				if present {
					t.Errorf("object present after the repeated PUT of a REJECTED upload; want it deleted")
				}
			}
		})
	}
}

// A duplicate whose side effect fails returns an error, so the event is retried rather than
// leaving a kept upload's object to the lifecycle rule.
func TestVerifyDuplicateFailureIsRetried(t *testing.T) {
	u := pendingUpload(pngBytes)
	var calls []string
	objects := newMemObjects(&calls)
	objects.put(u.Key, "image/png", pngBytes)
	store := newMemStore(u)
	v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: quietLog()}
	if _, err := v.Verify(context.Background(), u.Key); err != nil {
		t.Fatal(err)
	}
	objects.put(u.Key, "image/png", pngBytes)
	objects.keepErr = errors.New("service unavailable")
	if _, err := v.Verify(context.Background(), u.Key); err == nil {
		t.Fatal("Verify succeeded although Keep failed; want an error so the event is retried")
	}
	objects.keepErr = nil
	if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != OutcomeDuplicate || !objects.kept[u.Key] {
		t.Errorf("retry = %s, %v, kept %v; want DUPLICATE and the object kept", outcome, err, objects.kept[u.Key])
	}
}

// loggingStore records the status changes in the shared call log.
type loggingStore struct {
	*memStore
	log *[]string
}

func (s *loggingStore) Finish(ctx context.Context, id string, status Status, reason string, now time.Time) error {
	*s.log = append(*s.log, "finish "+string(status))
	return s.memStore.Finish(ctx, id, status, reason, now)
}

func TestVerifyKeysNobodyClaims(t *testing.T) {
	u := pendingUpload(pngBytes)
	tests := []struct {
		name, key   string
		wantOutcome Outcome
		wantDeleted bool
	}{
		{name: "not an upload key", key: "elsewhere/x.png", wantOutcome: OutcomeIgnored},
		{name: "no record", key: ObjectKey("alice", "fedcba9876543210fedcba9876543210", "a.png"), wantOutcome: OutcomeOrphan, wantDeleted: true},
		{name: "record for another key", key: ObjectKey("alice", uploadID, "other.png"), wantOutcome: OutcomeOrphan, wantDeleted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			objects := newMemObjects(&calls)
			objects.put(tt.key, "image/png", pngBytes)
			store := newMemStore(u)
			v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: quietLog()}
			outcome, err := v.Verify(context.Background(), tt.key)
			if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("Verify = %s, %v; want %s", outcome, err, tt.wantOutcome)
			}
			if _, present := objects.objects[tt.key]; present == tt.wantDeleted {
				t.Errorf("object present = %v; want deleted %v", present, tt.wantDeleted)
			}
			if store.uploads[uploadID].Status != StatusPending {
				t.Errorf("the unrelated upload became %s", store.uploads[uploadID].Status)
			}
		})
	}
}

// A failure part-way returns an error (Lambda retries the event) and leaves the upload PENDING;
// the retry then completes it.
func TestVerifyFailurePartWayIsRetried(t *testing.T) {
	outage := errors.New("service unavailable")
	tests := []struct {
		name       string
		body       []byte
		break_     func(*memStore, *memObjects)
		wantStatus Status
	}{
		{name: "head fails", body: pngBytes, break_: func(_ *memStore, o *memObjects) { o.headErr = outage }, wantStatus: StatusAvailable},
		{name: "keep fails", body: pngBytes, break_: func(_ *memStore, o *memObjects) { o.keepErr = outage }, wantStatus: StatusAvailable},
		{name: "marking AVAILABLE fails", body: pngBytes, break_: func(s *memStore, _ *memObjects) { s.finishErr = outage }, wantStatus: StatusAvailable},
		{name: "delete fails", body: []byte("not a png, but right size and sum"), break_: func(_ *memStore, o *memObjects) { o.delErr = outage }, wantStatus: StatusRejected},
		{name: "marking REJECTED fails", body: []byte("not a png, but right size and sum"), break_: func(s *memStore, _ *memObjects) { s.finishErr = outage }, wantStatus: StatusRejected},
		{name: "reading the record fails", body: pngBytes, break_: func(s *memStore, _ *memObjects) { s.getErr = outage }, wantStatus: StatusAvailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := pendingUpload(tt.body)
			var calls []string
			objects := newMemObjects(&calls)
			objects.put(u.Key, "image/png", tt.body)
			store := newMemStore(u)
			v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: quietLog()}

			tt.break_(store, objects)
			if _, err := v.Verify(context.Background(), u.Key); err == nil {
				t.Fatal("Verify succeeded; want an error so the event is retried")
			}
			if store.uploads[uploadID].Status != StatusPending {
				t.Fatalf("after the failure the upload is %s; want PENDING", store.uploads[uploadID].Status)
			}
			store.getErr, store.finishErr, objects.headErr, objects.delErr, objects.keepErr = nil, nil, nil, nil, nil
			if _, err := v.Verify(context.Background(), u.Key); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := store.uploads[uploadID].Status; got != tt.wantStatus {
				t.Errorf("after the retry the upload is %s; want %s", got, tt.wantStatus)
			}
			if _, present := objects.objects[u.Key]; present != (tt.wantStatus == StatusAvailable) {
				t.Errorf("object present = %v; want %v", present, tt.wantStatus == StatusAvailable)
			}
		})
	}
}

func TestVerifyLosingTheRaceIsNotAnError(t *testing.T) {
	u := pendingUpload(pngBytes)
	var calls []string
	objects := newMemObjects(&calls)
	objects.put(u.Key, "image/png", pngBytes)
	store := newMemStore(u)
	store.finishErr = ErrConflict // a concurrent duplicate decided first
	var logs bytes.Buffer
	v := Verifier{Store: store, Objects: objects, Now: fixedNow, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	if outcome, err := v.Verify(context.Background(), u.Key); err != nil || outcome != OutcomeDuplicate {
		t.Errorf("Verify = %s, %v; want DUPLICATE (the other verification decided) and no error", outcome, err)
	}
	// Only the winner logs the decision: one "upload available" line per upload is what the
	// soak counts to see that an upload was decided once.
	if strings.Contains(logs.String(), `"upload available"`) || !strings.Contains(logs.String(), "upload decided by another verification") {
		t.Errorf("log of the verification that lost the race:\n%s", logs.String())
	}
}
