// Package s3test gives the imports tests S3 to run against: versitygw, the S3 stand-in the local
// runner uses, and the errors the S3 client returns for S3's own answers.
//
// It is a package, not a test file, so that the tests of two packages can share it: the S3
// adapter's and the domain's, which runs the chain on that adapter. Only tests import it.
//
// [Start] shares one versitygw across a test binary's tests, started on first use; TestMain stops
// it with [Stop]. When versitygw is missing, tests that call Start are skipped with a message
// saying how to get it, unless REQUIRE_STANDINS=1 (dynamotest.EnvRequire) turns the skip into a
// failure.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/shared/dynamotest"
)

// Keys versitygw's root user has in these tests.
const (
	versityKey    = "imports-test"
	versitySecret = "imports-test-secret"
)

// versity is the test binary's versitygw, started on first use and stopped by Stop.
var versity = &versityInstance{}

type versityInstance struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string
	err      error
}

// Start returns an S3 client for the shared versitygw and a new bucket, deleted by nobody:
// the data directory goes with the process.
func Start(t testing.TB) (*s3.Client, string) {
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

// Stop stops the test binary's versitygw, if Start started one. Call it from TestMain once the
// tests have run.
func Stop() {
	versity.stop()
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

// answer is an HTTP client that answers every request with one S3 error response.
type answer struct {
	status          int
	requestID, code string
}

func (a answer) Do(req *http.Request) (*http.Response, error) {
	body := ""
	if req.Method != http.MethodHead { // S3 answers HEAD without a body: the SDK names it by status
		body = fmt.Sprintf("<Error><Code>%s</Code><Message>answered by the test</Message><RequestId>%s</RequestId></Error>", a.code, a.requestID)
	}
	return &http.Response{
		StatusCode: a.status, Status: http.StatusText(a.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}, "X-Amz-Request-Id": {a.requestID}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// ClientError returns the error the S3 client itself returns when S3 answers a GetObject (or a
// HeadObject, head true) with status and code: the typed error inside the HTTP response error
// (status, request id) inside the operation error.
func ClientError(t testing.TB, head bool, status int, requestID, code string) error {
	t.Helper()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		HTTPClient:   answer{status: status, requestID: requestID, code: code},
		Retryer:      aws.NopRetryer{},
	})
	ctx := context.Background()
	in := struct{ bucket, key *string }{aws.String("imports-bucket-123"), aws.String("imports/alice/a.csv")}
	var err error
	if head {
		_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: in.bucket, Key: in.key})
	} else {
		_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: in.bucket, Key: in.key, Range: aws.String("bytes=5-"), IfMatch: aws.String(`"etag"`)})
	}
	if err == nil {
		t.Fatalf("S3 client answered %d %s without an error", status, code)
	}
	return err
}
