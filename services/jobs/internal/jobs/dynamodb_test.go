package jobs

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// newDynamoStore makes a jobs table shaped like JobsTable in template.yaml, on DynamoDB Local.
func newDynamoStore(t *testing.T) DynamoStore {
	t.Helper()
	db := dynamotest.Start(t)
	table := dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("jobId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("jobId"), KeyType: types.KeyTypeHash}},
	})
	return DynamoStore{DB: db, Table: table}
}

func TestDynamoStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	job := pendingJob()
	job.Result = nil

	if _, err := s.Get(ctx, job.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Create = %v; want ErrNotFound", err)
	}
	if err := s.Create(ctx, job); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Create(ctx, job); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Create = %v; want ErrConflict", err)
	}
	got, err := s.Get(ctx, job.ID)
	if err != nil || got.Status != StatusPending || got.Owner != "alice" || !got.Deadline.Equal(job.Deadline) || got.Input != job.Input {
		t.Fatalf("Get = %+v, %v; want the stored pending job", got, err)
	}

	now := t0.Add(time.Minute)
	for attempt := 1; attempt <= 2; attempt++ {
		started, err := s.Start(ctx, job.ID, now.Add(time.Duration(attempt)*time.Second))
		if err != nil || started.Status != StatusRunning || started.Attempts != attempt {
			t.Fatalf("Start #%d = %+v, %v; want RUNNING with %d attempts", attempt, started, err, attempt)
		}
		if started.StartedAt == nil || !started.StartedAt.Equal(now.Add(time.Second)) {
			t.Errorf("StartedAt = %v; want the first start kept", started.StartedAt)
		}
	}
	if err := s.Finish(ctx, job.ID, StatusSucceeded, &Result{Output: "ok", DurationMS: 5}, nil, now); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	got, _ = s.Get(ctx, job.ID)
	if got.Status != StatusSucceeded || got.Result == nil || got.Result.Output != "ok" || got.FinishedAt == nil {
		t.Fatalf("after Finish = %+v; want SUCCEEDED with result and finishedAt", got)
	}
	// Nothing moves a finished job.
	if _, err := s.Start(ctx, job.ID, now); !errors.Is(err, ErrConflict) {
		t.Errorf("Start on SUCCEEDED = %v; want ErrConflict", err)
	}
	if err := s.Finish(ctx, job.ID, StatusFailed, nil, &Failure{Reason: "x"}, now); !errors.Is(err, ErrConflict) {
		t.Errorf("Finish on SUCCEEDED = %v; want ErrConflict", err)
	}
	if err := s.TimeOut(ctx, job.ID, job.Deadline.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("TimeOut on SUCCEEDED = %v; want ErrConflict", err)
	}
}

func TestDynamoStoreTimeOut(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	job := pendingJob()
	if err := s.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := s.TimeOut(ctx, job.ID, job.Deadline.Add(-time.Second)); !errors.Is(err, ErrConflict) {
		t.Fatalf("TimeOut before the deadline = %v; want ErrConflict", err)
	}
	if err := s.TimeOut(ctx, job.ID, job.Deadline.Add(2*time.Second)); err != nil {
		t.Fatalf("TimeOut after the deadline: %v", err)
	}
	got, _ := s.Get(ctx, job.ID)
	if got.Status != StatusTimedOut || got.Failure == nil {
		t.Fatalf("job = %+v; want TIMED_OUT with a failure", got)
	}
	// A worker that finishes late loses.
	if err := s.Finish(ctx, job.ID, StatusSucceeded, &Result{}, nil, time.Now()); !errors.Is(err, ErrConflict) {
		t.Errorf("late Finish = %v; want ErrConflict", err)
	}
}

func TestDynamoStoreOneFinisherWins(t *testing.T) {
	ctx := context.Background()
	s := newDynamoStore(t)
	job := pendingJob()
	if err := s.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, job.ID, t0); err != nil {
		t.Fatal(err)
	}
	// Ten writers race to finish the same job: exactly one wins, the rest get ErrConflict.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := StatusSucceeded
			if i%2 == 1 {
				status = StatusFailed
			}
			err := s.Finish(ctx, job.ID, status, nil, nil, t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Errorf("Finish: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 9 {
		t.Errorf("%d wins and %d conflicts; want 1 and 9", wins, conflicts)
	}
}

// hangingDB never answers; it returns when the call's context ends.
type hangingDB struct{ DynamoDBAPI }

func (hangingDB) GetItem(ctx context.Context, _ *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	<-ctx.Done()
	return nil, context.Cause(ctx)
}

func TestDynamoStoreCallEndsBeforeInvocation(t *testing.T) {
	// An invocation with 3 s left and a 2.9 s margin: the call must give up while the invocation
	// still has its margin to answer, not hang until Lambda kills it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s := DynamoStore{DB: hangingDB{}, Table: "jobs", Calls: budget.Calls{Budget: budget.Budget{Margin: 2900 * time.Millisecond}, Timeout: time.Minute}}
	_, err := s.Get(ctx, jobID)
	if !errors.Is(err, budget.ErrBudgetExhausted) {
		t.Fatalf("Get on a hanging table = %v; want the budget to end the call", err)
	}
	if ctx.Err() != nil {
		t.Error("the invocation's own deadline passed first; want the call to end with the margin left")
	}
}
