package standins

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// StartDynamoDB starts DynamoDB Local on port (0 picks a free one), in memory, and returns
// once a signed ListTables succeeds. The JVM takes about 2 s to answer; ctx bounds the wait,
// and it is never longer than 60 s. Its output goes to logs (nil discards it).
//
// It runs with -sharedDb, so every client sees the same tables whatever its access key and
// region (without it, a function configured for another region finds no tables). It
// listens on all interfaces, having no option to do otherwise: see the package doc.
func StartDynamoDB(ctx context.Context, paths Paths, port int, logs io.Writer) (*Process, error) {
	if err := paths.missingDynamoDB().err(); err != nil {
		return nil, fmt.Errorf("start dynamodb local: %w", err)
	}
	dir := paths.DynamoDBLocalDir
	return start(ctx, spec{
		name: "dynamodb local",
		path: "java",
		args: func(port int) []string {
			return []string{
				// C1 only: starts faster, and a local emulator never runs long enough for C2 to pay off.
				"-XX:TieredStopAtLevel=1",
				"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
				"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
				"-inMemory", "-sharedDb", "-disableTelemetry",
				"-port", strconv.Itoa(port),
			}
		},
		// It writes dynamodb-local-metadata.json into its working directory, even with
		// -disableTelemetry; keep that file next to the jar rather than wherever the runner
		// or a test happens to run.
		dir:          dir,
		ready:        dynamoDBReady,
		readyTimeout: 60 * time.Second,
	}, port, logs)
}

// dynamoDBReady sends a signed ListTables, the same kind of request the functions will send.
func dynamoDBReady(ctx context.Context, url string) error {
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      aws.NopRetryer{}, // the caller polls
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.DisableKeepAlives = true // leave no idle connection to a process about to be stopped
		}),
		// DynamoDB Local omits the CRC32 header on errors; checking it only adds log noise.
		DisableValidateResponseChecksum: true,
	})
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	return nil
}
