// Package dynamostoretest gives the imports tests a dynamostore.Store on DynamoDB Local, with the
// three tables shaped as in template.yaml, and a way to count what it wrote.
//
// It is a package, not a test file, so that the tests of two packages can share it: the store's
// own and the domain's, which runs the chain on the store. Only tests import it.
//
// [New] starts DynamoDB Local through shared/dynamotest, so a test binary that calls it should
// share one instance across its tests with dynamotest.Main in TestMain; without the emulator the
// test is skipped, or fails under REQUIRE_STANDINS=1.
package dynamostoretest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/services/imports/internal/imports/dynamostore"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/dynamotest"
)

// New makes the three tables shaped as in template.yaml, on DynamoDB Local, and returns a store
// on them whose calls are bounded by imports.CallTimeout, as in the functions.
func New(t testing.TB) dynamostore.Store {
	t.Helper()
	db := dynamotest.Start(t)
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	hash := func(name string) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}
	}
	byLine := &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{str("importId"), {AttributeName: aws.String("line"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema:            []types.KeySchemaElement{hash("importId"), {AttributeName: aws.String("line"), KeyType: types.KeyTypeRange}},
	}
	return dynamostore.Store{
		DB:    db,
		Calls: budget.Calls{Timeout: imports.CallTimeout},
		ImportsTable: dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{str("importId")},
			KeySchema:            []types.KeySchemaElement{hash("importId")},
		}),
		OrdersTable:  dynamotest.CreateTable(t, db, byLine),
		RejectsTable: dynamotest.CreateTable(t, db, byLine),
	}
}

// CountItems counts an import's items in table with a consistent query.
func CountItems(t testing.TB, s dynamostore.Store, table, id string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("importId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
		Select:                    types.SelectCount, ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("count items: %v", err)
		}
		n += int(page.Count)
	}
	return n
}
