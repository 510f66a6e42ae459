package standins

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// These tests run the real stand-ins from the repository's .cache (make standins). Without
// them they skip, unless REQUIRE_STANDINS=1, as in CI, where a missing stand-in fails.

// realPaths returns the downloaded stand-ins, or skips (or fails) if m says some are missing.
func realPaths(t *testing.T, missing func(Paths) missing) Paths {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.work")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			t.Fatalf("no go.work above %s", wd)
		}
		root = filepath.Dir(root)
	}
	paths := DefaultPaths(filepath.Join(root, ".cache"))
	if err := missing(paths).err(); err != nil {
		if os.Getenv("REQUIRE_STANDINS") == "1" {
			t.Fatalf("REQUIRE_STANDINS=1 and %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	return paths
}

// stopAndCheck stops p and asserts that the process is gone and its port closed.
func stopAndCheck(t *testing.T, p *Process) {
	t.Helper()
	pid := p.PID()
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !processGone(pid) {
		t.Errorf("pid %d: still running after Stop", pid)
	}
	assertPortClosed(t, p.Port)
}

func staticCredentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("local", "local", "")
}

func TestDynamoDB(t *testing.T) {
	t.Parallel()
	paths := realPaths(t, Paths.missingDynamoDB)
	var logs syncBuffer
	p, err := StartDynamoDB(t.Context(), paths, 0, &logs)
	if err != nil {
		t.Fatalf("StartDynamoDB: %v", err)
	}
	t.Cleanup(func() { p.Stop() })

	ctx := t.Context()
	client := dynamodb.New(dynamodb.Options{
		Region:                          "eu-west-1", // another region than the readiness check: -sharedDb
		Credentials:                     credentials.NewStaticCredentialsProvider("other", "other", ""),
		BaseEndpoint:                    aws.String(p.URL),
		DisableValidateResponseChecksum: true,
	})
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Jobs"),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v (logs: %s)", err, logs.String())
	}
	out, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if got := out.TableNames; len(got) != 1 || got[0] != "Jobs" {
		t.Errorf("ListTables: got %v, want [Jobs]", got)
	}

	stopAndCheck(t, p)
	if _, err := os.Stat("dynamodb-local-metadata.json"); err == nil {
		os.Remove("dynamodb-local-metadata.json")
		t.Errorf("dynamodb-local-metadata.json: written to the working directory, want it next to the jar")
	}
}

func TestFauxqs(t *testing.T) {
	t.Parallel()
	paths := realPaths(t, Paths.missingFauxqs)
	p, err := StartFauxqs(t.Context(), paths, 0, nil)
	if err != nil {
		t.Fatalf("StartFauxqs: %v", err)
	}
	t.Cleanup(func() { p.Stop() })

	ctx := t.Context()
	client := sqs.New(sqs.Options{Region: "us-east-1", Credentials: staticCredentials(), BaseEndpoint: aws.String(p.URL)})
	queue, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: aws.String("hello")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	got, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 5})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "hello" {
		t.Errorf("ReceiveMessage: got %+v, want one message %q", got.Messages, "hello")
	}

	stopAndCheck(t, p)
}

func TestVersity(t *testing.T) {
	t.Parallel()
	paths := realPaths(t, Paths.missingVersity)

	events := make(chan string, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case events <- string(body):
		default:
		}
	}))
	t.Cleanup(receiver.Close)

	const accessKey, secretKey = "local-access", "local-secret"
	dataDir := filepath.Join(t.TempDir(), "s3")
	p, err := StartVersity(t.Context(), paths, 0, VersityConfig{DataDir: dataDir, AccessKey: accessKey, SecretKey: secretKey, WebhookURL: receiver.URL}, nil)
	if err != nil {
		t.Fatalf("StartVersity: %v", err)
	}
	t.Cleanup(func() { p.Stop() })

	ctx := t.Context()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint: aws.String(p.URL),
		UsePathStyle: true,
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("uploads"),
		Key:    aws.String("a.txt"),
		Body:   bytes.NewReader([]byte("hello")),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || string(body) != "hello" {
		t.Errorf("GetObject: got %q (%v), want %q", body, err, "hello")
	}

	// Requests not signed with the root keys are refused.
	wrong := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  staticCredentials(),
		BaseEndpoint: aws.String(p.URL),
		UsePathStyle: true,
	})
	if _, err := wrong.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.txt")}); err == nil {
		t.Errorf("GetObject with other keys: got no error, want access denied")
	}

	// The webhook flag reached versitygw: the upload was notified.
	wait := time.After(10 * time.Second)
	for notified := false; !notified; {
		select {
		case e := <-events:
			notified = strings.Contains(e, `"Records"`) && strings.Contains(e, "a.txt")
		case <-wait:
			t.Fatalf("webhook: no event for a.txt, want one")
		}
	}

	stopAndCheck(t, p)
}

func TestVersityExitsWithoutWebhookReceiver(t *testing.T) {
	t.Parallel()
	paths := realPaths(t, Paths.missingVersity)
	nowhere := "http://127.0.0.1:" + strconv.Itoa(mustFreePort(t)) + "/"
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := StartVersity(ctx, paths, 0, VersityConfig{DataDir: t.TempDir(), AccessKey: "local-access", SecretKey: "local-secret", WebhookURL: nowhere}, nil)
	if err == nil {
		p.Stop()
		t.Fatalf("StartVersity: got a process, want an error")
	}
	t.Logf("StartVersity: %v", err)
	if !strings.Contains(err.Error(), "event webhook") {
		t.Errorf("StartVersity: got %q, want it to explain the webhook receiver must listen first", err)
	}
}

// Each function signs with keys of its own; versitygw must know them (its internal IAM), refuse
// keys it does not know, and still serve the root user.
func TestVersityAccounts(t *testing.T) {
	t.Parallel()
	paths := realPaths(t, Paths.missingVersity)
	p, err := StartVersity(t.Context(), paths, 0, VersityConfig{
		DataDir: filepath.Join(t.TempDir(), "s3"), AccessKey: "root-access", SecretKey: "root-secret",
		Accounts: []VersityAccount{{AccessKey: "fn-access", SecretKey: "fn-secret"}},
	}, nil)
	if err != nil {
		t.Fatalf("StartVersity: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	clientFor := func(key, secret string) *s3.Client {
		return s3.New(s3.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint: aws.String(p.URL),
			UsePathStyle: true,
		})
	}
	ctx := t.Context()
	if _, err := clientFor("root-access", "root-secret").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatalf("root CreateBucket: %v", err)
	}
	put := func(c *s3.Client) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: strings.NewReader("x")})
		return err
	}
	if err := put(clientFor("fn-access", "fn-secret")); err != nil {
		t.Errorf("PutObject with an account's keys into the root's bucket: %v, want success", err)
	}
	for _, c := range []struct{ key, secret string }{{"fn-access", "wrong-secret"}, {"stranger", "fn-secret"}} {
		if err := put(clientFor(c.key, c.secret)); err == nil {
			t.Errorf("PutObject with %s/%s: got success, want a refusal", c.key, c.secret)
		}
	}
}
