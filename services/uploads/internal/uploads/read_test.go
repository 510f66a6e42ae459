package uploads

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReaderOnlyAnswersTheOwner(t *testing.T) {
	available := Upload{ID: uploadID, Owner: "alice", Key: "uploads/alice/" + uploadID + "/a.png", FileName: "a.png", ContentType: "image/png", Status: StatusAvailable}
	pending := available
	pending.ID = "fedcba9876543210fedcba9876543210"
	pending.Status = StatusPending
	store := newMemStore(available, pending)
	r := Reader{Store: store, Signer: &fakeSigner{}, DownloadExpiry: time.Minute, Now: fixedNow}
	ctx := context.Background()

	if u, err := r.Get(ctx, "alice", uploadID); err != nil || u.ID != uploadID {
		t.Errorf("owner's Get = %+v, %v; want the upload", u, err)
	}
	if _, err := r.Get(ctx, "mallory", uploadID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's Get = %v; want ErrNotFound", err)
	}
	if _, err := r.Download(ctx, "mallory", uploadID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's Download = %v; want ErrNotFound", err)
	}
	before := len(store.calls)
	if _, err := r.Get(ctx, "alice", "../../etc/passwd"); !errors.Is(err, ErrNotFound) || len(store.calls) != before {
		t.Errorf("malformed id: %v after %d store calls; want ErrNotFound without a lookup", err, len(store.calls)-before)
	}
	if _, err := r.Download(ctx, "alice", pending.ID); !errors.Is(err, ErrNotVerifiedYet) || !errors.Is(err, ErrNotAvailable) {
		t.Errorf("Download of a PENDING upload = %v; want ErrNotVerifiedYet, which is ErrNotAvailable", err)
	}
	signed, err := r.Download(ctx, "alice", uploadID)
	if err != nil || signed.Method != "GET" || !signed.Expires.Equal(t0.Add(time.Minute)) {
		t.Errorf("Download = %+v, %v; want a GET expiring in a minute", signed, err)
	}
}
