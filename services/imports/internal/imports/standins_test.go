package imports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/dynamotest"
)

func TestMain(m *testing.M) {
	code := dynamotest.Main(m)
	versity.stop()
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

// Keys versitygw's root user has in these tests.
const (
	versityKey    = "imports-test"
	versitySecret = "imports-test-secret"
)

// versity is the test binary's versitygw, started on first use and stopped by TestMain.
var versity = &versityInstance{}

type versityInstance struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string
	err      error
}

// startVersity returns an S3 client for the shared versitygw and a new bucket, deleted by nobody:
// the data directory goes with the process.
func startVersity(t testing.TB) (*s3.Client, string) {
	t.Helper()
	versity.once.Do(versity.start)
	if errors.Is(versity.err, errNoVersity) {
		if os.Getenv(dynamotest.EnvRequire) == "1" {
			t.Fatalf("%v (%s=1 forbids skipping)", versity.err, dynamotest.EnvRequire)
		}
		t.Skipf("skipping: %v", versity.err)
	}
	if versity.err != nil {
		t.Fatalf("start versitygw: %v", versity.err)
	}
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(versityKey, versitySecret, ""),
		BaseEndpoint: aws.String(versity.endpoint),
		// No UsePathStyle: the SDK's endpoint rules address an IP endpoint path-style by
		// themselves, which is what lets functions reach versitygw with AWS_ENDPOINT_URL_S3 alone.
	})
	bucket := fmt.Sprintf("imports-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return client, bucket
}

var errNoVersity = errors.New("versitygw is not installed (run `make standins`)")

func (v *versityInstance) start() {
	bin, err := findUp(filepath.Join(".cache", "standins", "bin", "versitygw"))
	if err != nil {
		v.err = err
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		v.err = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "imports-versity-")
	if err != nil {
		v.err = err
		return
	}
	v.cmd = exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "--quiet", "--health", "/health", "posix", dir)
	v.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+versityKey, "ROOT_SECRET_ACCESS_KEY="+versitySecret)
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := v.cmd.Start(); err != nil {
		v.err = fmt.Errorf("start %s: %w", bin, err)
		return
	}
	v.endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(v.endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	v.err = errors.New("versitygw did not become healthy within 30 s")
}

func (v *versityInstance) stop() {
	if v.cmd != nil && v.cmd.Process != nil {
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
		_ = v.cmd.Wait()
	}
}

// findUp looks for rel in the working directory and its parents.
func findUp(rel string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errNoVersity
		}
	}
}
