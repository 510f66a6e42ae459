package uploads

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/invalid"
)

func sha(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

const uploadID = "0123456789abcdef0123456789abcdef"

func newCreator(store *memStore, signer *fakeSigner) Creator {
	return Creator{
		Store: store, Signer: signer, Policy: policy(),
		URLExpiry: 5 * time.Minute, Retention: 24 * time.Hour,
		Now: fixedNow, NewID: func() string { return uploadID },
	}
}

func TestCreateRecordsThenSigns(t *testing.T) {
	store, signer := newMemStore(), &fakeSigner{}
	in := Request{FileName: "my photo.png", ContentType: "image/png", Size: 5, SHA256: sha([]byte("hello"))}
	u, signed, err := newCreator(store, signer).Create(context.Background(), "alice", in)
	if err != nil {
		t.Fatal(err)
	}
	wantKey := "uploads/alice/" + uploadID + "/my_photo.png"
	stored := store.uploads[uploadID]
	if stored.Status != StatusPending || stored.Owner != "alice" || stored.Key != wantKey || stored.FileName != "my photo.png" || stored.SHA256 != in.SHA256 {
		t.Errorf("stored = %+v; want a PENDING upload of alice at %s with the declaration", stored, wantKey)
	}
	if stored.PurgeAt != t0.Add(24*time.Hour).Unix() || !stored.URLExpires.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("purgeAt %d, urlExpiresAt %v; want a day and 5 minutes after creation", stored.PurgeAt, stored.URLExpires)
	}
	if len(signer.puts) != 1 || signer.puts[0] != wantKey || signer.expires[0] != 5*time.Minute {
		t.Errorf("signed %v for %v; want one PUT of %s for 5m", signer.puts, signer.expires, wantKey)
	}
	if u.ID != uploadID || !signed.Expires.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("Create = %+v, expires %v; want the upload and when its URL expires", u, signed.Expires)
	}
}

// TestCreateRecordsTheSecond: createdAt is written to the second, so every value has one width
// and the ByOwner index's text order is time order.
func TestCreateRecordsTheSecond(t *testing.T) {
	store := newMemStore()
	c := newCreator(store, &fakeSigner{})
	c.Now = func() time.Time { return t0.Add(500 * time.Millisecond) }
	in := Request{FileName: "a.txt", ContentType: "text/plain", Size: 5, SHA256: sha([]byte("hello"))}
	if _, _, err := c.Create(context.Background(), "alice", in); err != nil {
		t.Fatal(err)
	}
	if got := store.uploads[uploadID].CreatedAt; !got.Equal(t0.Truncate(time.Second)) || got.Location() != time.UTC {
		t.Errorf("createdAt = %v; want %v, in UTC, no fraction", got, t0.Truncate(time.Second))
	}
}

func TestCreateShorterExpiry(t *testing.T) {
	tests := []struct {
		seconds int
		want    time.Duration
		invalid bool
	}{
		{seconds: 0, want: 5 * time.Minute},
		{seconds: 1, want: time.Second},
		{seconds: 300, want: 5 * time.Minute},
		{seconds: 301, invalid: true},
		{seconds: -1, invalid: true},
		// As nanoseconds, 2^55 + 300 s wraps to exactly 300 s: the comparison is in seconds.
		{seconds: 1<<55 + 300, invalid: true},
	}
	for _, tt := range tests {
		store, signer := newMemStore(), &fakeSigner{}
		in := Request{FileName: "a.png", ContentType: "image/png", Size: 5, SHA256: sha([]byte("hello")), ExpiresInSeconds: tt.seconds}
		_, _, err := newCreator(store, signer).Create(context.Background(), "alice", in)
		if tt.invalid {
			if bad, ok := errors.AsType[*invalid.Param](err); !ok || bad.Name != "expiresInSeconds" || len(store.uploads) != 0 {
				t.Errorf("expiresInSeconds %d: %v, %d stored; want refused and nothing stored", tt.seconds, err, len(store.uploads))
			}
			continue
		}
		if err != nil || len(signer.expires) != 1 || signer.expires[0] != tt.want {
			t.Errorf("expiresInSeconds %d: %v, signed for %v; want %v", tt.seconds, err, signer.expires, tt.want)
		}
	}
}

func TestCreateFailures(t *testing.T) {
	in := Request{FileName: "a.png", ContentType: "image/png", Size: 5, SHA256: sha([]byte("hello"))}

	// Invalid: nothing stored, nothing signed.
	store, signer := newMemStore(), &fakeSigner{}
	bad := in
	bad.FileName = "../x.png"
	if _, _, err := newCreator(store, signer).Create(context.Background(), "alice", bad); err == nil || len(store.calls) != 0 || len(signer.puts) != 0 {
		t.Errorf("invalid request: %v, store %v, signed %v; want an error and no calls", err, store.calls, signer.puts)
	}

	// The record cannot be written: no URL exists for it.
	store, signer = newMemStore(), &fakeSigner{}
	store.createErr = errors.New("throttled")
	if _, _, err := newCreator(store, signer).Create(context.Background(), "alice", in); err == nil || len(signer.puts) != 0 {
		t.Errorf("store down: %v, signed %v; want an error and nothing signed", err, signer.puts)
	}

	// Signing fails after the write: an error, and the PENDING record is left to its TTL.
	store, signer = newMemStore(), &fakeSigner{err: errors.New("no credentials")}
	if _, _, err := newCreator(store, signer).Create(context.Background(), "alice", in); err == nil || store.uploads[uploadID].PurgeAt == 0 {
		t.Errorf("signer down: %v, stored %+v; want an error and a record that expires", err, store.uploads[uploadID])
	}
}
