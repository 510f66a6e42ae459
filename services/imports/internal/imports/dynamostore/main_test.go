package dynamostore_test

import (
	"os"
	"testing"

	"github.com/go-serverless/reference/shared/dynamotest"
)

// TestMain shares one DynamoDB Local across the store's tests.
func TestMain(m *testing.M) {
	os.Exit(dynamotest.Main(m))
}
