package idempotency

// Integration tests: the same Store against DynamoDB Local, so that the
// condition expressions are checked by DynamoDB itself.

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// table is the schema documented in the package comment.
var table = &dynamodb.CreateTableInput{
	AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func localStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	client := dynamotest.Start(t)
	name := dynamotest.CreateTable(t, client, table)
	c := &fakeClock{t: time.Now()}
	return New(client, name, WithClock(c.Now), WithTTL(time.Hour)), c
}

func TestLocalLifecycle(t *testing.T) {
	s, _ := localStore(t)
	ctx := t.Context()

	rec, err := s.Begin(ctx, "k", "fp", time.Minute)
	if err != nil || rec.Completed {
		t.Fatalf("first Begin() = %+v, %v, want a claim", rec, err)
	}
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); !errors.Is(err, ErrInProgress) {
		t.Fatalf("second Begin() error = %v, want ErrInProgress", err)
	}
	if _, err := s.Begin(ctx, "k", "other", time.Minute); !errors.Is(err, ErrFingerprintMismatch) {
		t.Fatalf("Begin(other fingerprint) error = %v, want ErrFingerprintMismatch", err)
	}
	if err := s.Complete(ctx, "k", []byte(`{"jobId":"j1"}`)); err != nil {
		t.Fatalf("Complete() = %v", err)
	}
	rec, err = s.Begin(ctx, "k", "fp", time.Minute)
	if err != nil || !rec.Completed || string(rec.Result) != `{"jobId":"j1"}` {
		t.Fatalf("Begin() after Complete = %+v, %v, want the completed result", rec, err)
	}
	if _, err := s.Begin(ctx, "k", "other", time.Minute); !errors.Is(err, ErrFingerprintMismatch) {
		t.Errorf("Begin(other fingerprint) after Complete error = %v, want ErrFingerprintMismatch", err)
	}
	if err := s.Complete(ctx, "k", []byte("again")); !errors.Is(err, ErrClaimLost) {
		t.Errorf("second Complete() = %v, want ErrClaimLost", err)
	}
}

func TestLocalEmptyResult(t *testing.T) {
	s, _ := localStore(t)
	ctx := t.Context()
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "k", nil); err != nil {
		t.Fatalf("Complete(nil) = %v", err)
	}
	rec, err := s.Begin(ctx, "k", "fp", time.Minute)
	if err != nil || !rec.Completed || len(rec.Result) != 0 {
		t.Errorf("Begin() = %+v, %v, want completed with no result", rec, err)
	}
}

func TestLocalExpiredClaimIsTakenOver(t *testing.T) {
	s, clock := localStore(t)
	ctx := t.Context()
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); err != nil {
		t.Fatal(err)
	}
	// The first attempt crashed; its claim runs out.
	clock.Advance(time.Minute + time.Millisecond)
	rec, err := s.Begin(ctx, "k", "fp", time.Minute)
	if err != nil || rec.Completed {
		t.Fatalf("Begin() after the claim expired = %+v, %v, want a new claim", rec, err)
	}
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); !errors.Is(err, ErrInProgress) {
		t.Errorf("Begin() during the new claim error = %v, want ErrInProgress", err)
	}
}

func TestLocalExpiredRecordIsAbsent(t *testing.T) {
	s, clock := localStore(t)
	ctx := t.Context()
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	// Past the TTL, but DynamoDB has not deleted the item yet.
	clock.Advance(time.Hour + time.Second)
	rec, err := s.Begin(ctx, "k", "other", time.Minute)
	if err != nil || rec.Completed {
		t.Errorf("Begin() after the record expired = %+v, %v, want a new claim", rec, err)
	}
}

func TestLocalRelease(t *testing.T) {
	s, _ := localStore(t)
	ctx := t.Context()
	if _, err := s.Begin(ctx, "k", "fp", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k"); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	if err := s.Complete(ctx, "k", []byte("r")); !errors.Is(err, ErrClaimLost) {
		t.Errorf("Complete() after Release = %v, want ErrClaimLost", err)
	}
	if rec, err := s.Begin(ctx, "k", "fp", time.Hour); err != nil || rec.Completed {
		t.Fatalf("Begin() after Release = %+v, %v, want a claim at once", rec, err)
	}
	if err := s.Complete(ctx, "k", []byte("r")); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k"); err != nil {
		t.Errorf("Release() of a completed record = %v, want nil", err)
	}
	if rec, err := s.Begin(ctx, "k", "fp", time.Hour); err != nil || !rec.Completed {
		t.Errorf("Begin() after releasing a completed record = %+v, %v, want it still completed", rec, err)
	}
	if err := s.Release(ctx, "never-claimed"); err != nil {
		t.Errorf("Release(never claimed) = %v, want nil", err)
	}
}

func TestLocalDoRunsOnce(t *testing.T) {
	s, _ := localStore(t)
	ctx := t.Context()

	var runs atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	work := func(context.Context) ([]byte, error) {
		if runs.Add(1) == 1 {
			close(started)
			<-release // hold the claim while the others arrive
		}
		return []byte("done"), nil
	}

	// One delivery holds the claim; redeliveries arrive meanwhile.
	first := make(chan error, 1)
	go func() {
		_, err := s.Do(ctx, "msg-1", "fp", time.Minute, work)
		first <- err
	}()
	<-started
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := s.Do(ctx, "msg-1", "fp", time.Minute, work); !errors.Is(err, ErrInProgress) {
				t.Errorf("concurrent Do() error = %v, want ErrInProgress", err)
			}
		})
	}
	wg.Wait()
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first Do() = %v", err)
	}

	got, err := s.Do(ctx, "msg-1", "fp", time.Minute, work)
	if err != nil || string(got) != "done" {
		t.Errorf("Do() after completion = %q, %v, want done", got, err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("work ran %d times, want 1", n)
	}
}

func TestLocalDoReleasesOnFailure(t *testing.T) {
	s, _ := localStore(t)
	ctx := t.Context()
	errWork := errors.New("downstream refused")
	if _, err := s.Do(ctx, "k", "fp", time.Hour, func(context.Context) ([]byte, error) { return nil, errWork }); !errors.Is(err, errWork) {
		t.Fatalf("Do() = %v, want the work's error", err)
	}
	got, err := s.Do(ctx, "k", "fp", time.Hour, func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(got) != "ok" {
		t.Errorf("retry Do() = %q, %v, want ok at once", got, err)
	}
}

// lostAnswer applies every PutItem and then sends it again, as the SDK does when the answer to
// the first try was lost (a reset connection, a 500 after the write): what Begin sees is the
// second try's answer.
type lostAnswer struct {
	*dynamodb.Client
}

func (l lostAnswer) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := l.Client.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return l.Client.PutItem(ctx, in, opts...)
}

// TestLocalBeginRecognisesItsOwnClaim: a claim whose answer was lost is still this call's, not
// another request's in progress; another Begin of the same key is refused as before.
func TestLocalBeginRecognisesItsOwnClaim(t *testing.T) {
	client := dynamotest.Start(t)
	name := dynamotest.CreateTable(t, client, table)
	c := &fakeClock{t: time.Now()}
	s := New(lostAnswer{client}, name, WithClock(c.Now), WithTTL(time.Hour))
	ctx := t.Context()

	rec, err := s.Begin(ctx, "k", "fp", time.Minute)
	if err != nil || rec.Completed {
		t.Fatalf("Begin whose answer was lost = %+v, %v; want the claim", rec, err)
	}
	if _, err := s.Begin(ctx, "k", "fp", time.Minute); !errors.Is(err, ErrInProgress) {
		t.Fatalf("a second request's Begin = %v; want ErrInProgress", err)
	}
	if err := s.Complete(ctx, "k", []byte("done")); err != nil {
		t.Fatalf("Complete of the recognised claim: %v", err)
	}
}
