package uploads

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

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
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("uploadId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("createdAt"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("uploadId"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(OwnerIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"fileName", "contentType", "size", "status", "reason"}},
		}},
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

func TestDynamoStoreListByOwner(t *testing.T) {
	ctx := context.Background()
	s, _ := newDynamoStore(t)
	ids := []string{"00000000000000000000000000000001", "00000000000000000000000000000002", "00000000000000000000000000000003"}
	for i, id := range ids {
		u := pendingUpload(pngBytes)
		u.ID, u.CreatedAt = id, t0.Add(time.Duration(i)*time.Second)
		if err := s.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	other := pendingUpload(pngBytes)
	other.ID, other.Owner, other.CreatedAt = "00000000000000000000000000000004", "bob", t0.Add(time.Hour)
	if err := s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, ids[2], StatusRejected, "content does not look like image/png", t0); err != nil {
		t.Fatal(err)
	}

	got, err := s.ListByOwner(ctx, "alice", 2)
	if err != nil {
		t.Fatal(err)
	}
	// The newest two of alice's, with what the index projects; never bob's, never the key.
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("ListByOwner(alice, 2) = %+v; want %s then %s", got, ids[2], ids[1])
	}
	if got[0].Status != StatusRejected || got[0].Reason == "" || got[0].FileName != "a.png" || got[0].Size != int64(len(pngBytes)) || !got[0].CreatedAt.Equal(t0.Add(2*time.Second)) || got[0].Key != "" {
		t.Errorf("first = %+v; want REJECTED with its reason, name, size and time, and no object key", got[0])
	}
	if none, err := s.ListByOwner(ctx, "carol", 20); err != nil || len(none) != 0 {
		t.Errorf("ListByOwner(carol) = %+v, %v; want none", none, err)
	}
}
