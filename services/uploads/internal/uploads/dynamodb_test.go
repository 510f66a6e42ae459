package uploads

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// newDynamoStore makes a table shaped like UploadsTable in template.yaml, on DynamoDB Local.
func newDynamoStore(t *testing.T) (DynamoStore, *dynamodb.Client) {
	t.Helper()
	db := dynamotest.Start(t)
	table := dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("uploadId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("uploadId"), KeyType: types.KeyTypeHash}},
	})
	return DynamoStore{DB: db, Table: table}, db
}

func TestDynamoStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s, db := newDynamoStore(t)
	u := pendingUpload(pngBytes)

	if _, err := s.Get(ctx, u.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Create = %v; want ErrNotFound", err)
	}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, u); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Create = %v; want ErrConflict (ids never overwrite)", err)
	}
	got, err := s.Get(ctx, u.ID)
	if err != nil || got.Status != StatusPending || got.Key != u.Key || got.SHA256 != u.SHA256 || got.PurgeAt != u.PurgeAt || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("Get = %+v, %v; want the stored upload", got, err)
	}

	if err := s.Finish(ctx, u.ID, StatusAvailable, "", t0); err != nil {
		t.Fatalf("Finish AVAILABLE: %v", err)
	}
	if err := s.Finish(ctx, u.ID, StatusRejected, "late duplicate", t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("Finish after a decision = %v; want ErrConflict", err)
	}
	got, _ = s.Get(ctx, u.ID)
	if got.Status != StatusAvailable || got.Reason != "" || got.VerifiedAt == nil || !got.VerifiedAt.Equal(t0) {
		t.Errorf("after Finish = %+v; want AVAILABLE, verified at t0, the late rejection ignored", got)
	}
	// An AVAILABLE upload is kept: its TTL attribute is gone.
	item, _ := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(u.ID), ConsistentRead: aws.Bool(true)})
	if _, ok := item.Item["purgeAt"]; ok {
		t.Errorf("purgeAt still set on an AVAILABLE upload")
	}

	rejected := pendingUpload(pngBytes)
	rejected.ID = "fedcba9876543210fedcba9876543210"
	if err := s.Create(ctx, rejected); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, rejected.ID, StatusRejected, "content does not look like image/png", t0); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, rejected.ID)
	if got.Status != StatusRejected || got.Reason != "content does not look like image/png" || got.PurgeAt == 0 {
		t.Errorf("rejected = %+v; want REJECTED with its reason, still expiring", got)
	}
	if err := s.Finish(ctx, "00000000000000000000000000000000", StatusAvailable, "", t0); !errors.Is(err, ErrConflict) {
		t.Errorf("Finish of a missing upload = %v; want ErrConflict (nothing is created by Finish)", err)
	}
}
