package imports

import (
	"os"
	"testing"

	"github.com/go-serverless/reference/services/imports/internal/s3test"
	"github.com/go-serverless/reference/shared/dynamotest"
)

// TestMain shares one DynamoDB Local and one versitygw, each started on first use, across the
// tests and benchmarks of package imports_test that run the chain on the real adapters.
func TestMain(m *testing.M) {
	code := dynamotest.Main(m)
	s3test.Stop()
	os.Exit(code)
}
