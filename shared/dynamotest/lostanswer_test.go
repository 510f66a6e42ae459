package dynamotest

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLosingFirstAnswer shows what the client promises: the first PutItem is applied although its
// answer is lost, the SDK's retry sends it again and succeeds, and nothing else is touched.
func TestLosingFirstAnswer(t *testing.T) {
	client := Start(t)
	ctx := t.Context()
	name := CreateTable(t, client, keyTable)
	lossy, lose := LosingFirstAnswer(client, "DynamoDB_20120810.PutItem")

	// Applied the first time; the retry finds the item there and fails its condition, so the
	// caller sees the condition fail for its own write: what the tests using this are about.
	_, err := lossy.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(name),
		Item:                map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		t.Fatalf("PutItem whose answer was lost = %v; want the retry's ConditionalCheckFailedException", err)
	}
	if lost, requests := lose.Counts(); lost != 1 || requests != 2 {
		t.Errorf("Counts() = %d lost of %d; want 1 of 2", lost, requests)
	}
	if _, err := lossy.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(name),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
	}); err != nil {
		t.Errorf("GetItem, another operation: %v; want its answer delivered", err)
	}
	if lost, requests := lose.Counts(); lost != 1 || requests != 2 {
		t.Errorf("after a GetItem, Counts() = %d lost of %d; want still 1 of 2", lost, requests)
	}
}
