package imports

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) {
	code := dynamotest.Main(m)
	s3test.Stop()
	os.Exit(code)
}

// newDynamoStore makes the three tables shaped as in template.yaml, on DynamoDB Local.
func newDynamoStore(t testing.TB) DynamoStore {
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
	return DynamoStore{
		DB:    db,
		Calls: budget.Calls{Timeout: CallTimeout},
		ImportsTable: dynamotest.CreateTable(t, db, &dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{str("importId")},
			KeySchema:            []types.KeySchemaElement{hash("importId")},
		}),
		OrdersTable:  dynamotest.CreateTable(t, db, byLine),
		RejectsTable: dynamotest.CreateTable(t, db, byLine),
	}
}
