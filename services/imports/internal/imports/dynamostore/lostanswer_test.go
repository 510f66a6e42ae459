package dynamostore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore/dynamostoretest"
	"github.com/go-serverless/reference/shared/dynamotest"
)

// TestCheckpointWhoseAnswerWasLostIsOurs moves a checkpoint on DynamoDB Local while the answer to
// the write is lost and the SDK retries it: the retry finds the checkpoint moved by the write
// itself, which is success, not another invocation's progress (that would stop the chain with
// no one to carry it on). A second invocation from the same offset still loses.
func TestCheckpointWhoseAnswerWasLostIsOurs(t *testing.T) {
	for _, done := range []bool{false, true} {
		t.Run(map[bool]string{false: "mid-file", true: "last batch"}[done], func(t *testing.T) {
			ctx := context.Background()
			s := dynamostoretest.New(t)
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			imp := imports.Import{ID: "i-1", Owner: "alice", Bucket: "b", Key: "imports/alice/a.csv", ETag: "e", Size: 100, Format: imports.FormatCSV, Status: imports.StatusRunning, CreatedAt: now, UpdatedAt: now}
			if err := s.Create(ctx, imp); err != nil {
				t.Fatal(err)
			}
			db, lossy := dynamotest.LosingFirstAnswer(s.DB.(*dynamodb.Client), "DynamoDB_20120810.UpdateItem")
			s.DB = db
			cp := imports.Checkpoint{Offset: 100, Line: 7, Accepted: 6, Rejected: 1, Done: done, Now: now}
			if err := s.Checkpoint(ctx, "i-1", 0, cp); err != nil {
				t.Fatalf("Checkpoint whose answer was lost = %v; want success", err)
			}
			if lost, requests := lossy.Counts(); lost != 1 || requests != 2 {
				t.Fatalf("answers lost %d of %d writes; want 1 of 2: the write was not retried once", lost, requests)
			}
			got, err := s.Get(ctx, "i-1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Offset != 100 || got.Accepted != 6 || got.Rejected != 1 || (got.Status == imports.StatusSucceeded) != done {
				t.Errorf("import = %+v; want byte 100 with 6 accepted and 1 rejected, counted once", got)
			}
			if err := s.Checkpoint(ctx, "i-1", 0, cp); !errors.Is(err, imports.ErrConflict) {
				t.Errorf("another invocation's checkpoint from the same offset = %v; want ErrConflict", err)
			}
		})
	}
}
