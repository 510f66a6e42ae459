package provision

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/infra/local/internal/standins"
	"github.com/go-serverless/reference/infra/local/template"
)

// These tests provision on the real stand-ins from the repository's .cache (make standins),
// started once for the package, on the first test that needs them, and stopped by TestMain.
// Without the stand-ins they skip, unless REQUIRE_STANDINS=1 (as in CI), where that fails.

// standinRegion differs from us-east-1 on purpose: ARNs must name the configured region
// even where a stand-in answers with its own (DynamoDB Local says "ddblocal").
const standinRegion = "eu-west-1"

// Root keys for versitygw; the other stand-ins accept any.
const (
	versityAccessKey = "provision-test"
	versitySecretKey = "provision-test-secret"
)

// running holds the stand-ins the package's tests share.
type running struct {
	clients Clients
	ddb     *dynamodb.Client
	sqs     *sqs.Client
	sns     *sns.Client
	s3      *s3.Client

	processes []*standins.Process
	dataDir   string
	err       error // why they could not start
	missing   error // which are not installed
}

// shared is started at most once per test binary; TestMain stops it.
var shared struct {
	once sync.Once
	r    running
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range shared.r.processes {
		if err := p.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop %s: %v\n", p.Name, err)
		}
	}
	if shared.r.dataDir != "" {
		os.RemoveAll(shared.r.dataDir)
	}
	os.Exit(code)
}

// standinsFor returns the running stand-ins, starting them on first use; it skips the test
// when they are not installed and fails it when they are but do not start.
func standinsFor(t *testing.T) *running {
	t.Helper()
	shared.once.Do(func() { shared.r = startStandins() })
	r := &shared.r
	if r.missing != nil {
		if os.Getenv("REQUIRE_STANDINS") == "1" {
			t.Fatalf("REQUIRE_STANDINS=1 and %v", r.missing)
		}
		t.Skipf("skipping: %v", r.missing)
	}
	if r.err != nil {
		t.Fatalf("start stand-ins: %v", r.err)
	}
	return r
}

func startStandins() running {
	var r running
	paths, err := standinPaths()
	if err != nil {
		r.missing = err
		return r
	}
	if err := paths.Check(); err != nil {
		r.missing = err
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	ddb, err := standins.StartDynamoDB(ctx, paths, 0, nil)
	if err != nil {
		r.err = err
		return r
	}
	r.processes = append(r.processes, ddb)
	fauxqs, err := standins.StartFauxqs(ctx, paths, 0, nil)
	if err != nil {
		r.err = err
		return r
	}
	r.processes = append(r.processes, fauxqs)
	if r.dataDir, err = os.MkdirTemp("", "provision-versity-"); err != nil {
		r.err = err
		return r
	}
	versity, err := standins.StartVersity(ctx, paths, 0, standins.VersityConfig{DataDir: r.dataDir, AccessKey: versityAccessKey, SecretKey: versitySecretKey}, nil)
	if err != nil {
		r.err = err
		return r
	}
	r.processes = append(r.processes, versity)

	anyKey := credentials.NewStaticCredentialsProvider("local", "local", "")
	r.ddb = dynamodb.New(dynamodb.Options{
		Region: standinRegion, Credentials: anyKey, BaseEndpoint: aws.String(ddb.URL),
		// DynamoDB Local omits the CRC32 header on errors; checking it only logs noise.
		DisableValidateResponseChecksum: true,
	})
	r.sqs = sqs.New(sqs.Options{Region: standinRegion, Credentials: anyKey, BaseEndpoint: aws.String(fauxqs.URL)})
	r.sns = sns.New(sns.Options{Region: standinRegion, Credentials: anyKey, BaseEndpoint: aws.String(fauxqs.URL)})
	r.s3 = s3.New(s3.Options{
		// versitygw checks that requests are signed for its own region, us-east-1 by default,
		// whatever region the template is deployed to.
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(versityAccessKey, versitySecretKey, ""),
		BaseEndpoint: aws.String(versity.URL),
		UsePathStyle: true,
	})
	r.clients = Clients{DynamoDB: r.ddb, SQS: r.sqs, SNS: r.sns, S3: r.s3}
	return r
}

// standinPaths finds the stand-ins under the .cache directory next to go.work.
func standinPaths() (standins.Paths, error) {
	dir, err := os.Getwd()
	if err != nil {
		return standins.Paths{}, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return standins.DefaultPaths(filepath.Join(dir, ".cache")), nil
		}
		if filepath.Dir(dir) == dir {
			return standins.Paths{}, fmt.Errorf("no go.work above the test's directory: cannot find .cache/standins")
		}
		dir = filepath.Dir(dir)
	}
}

const standinTemplate = `
Resources:
  JobsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
        - {AttributeName: createdAt, AttributeType: N}
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema: [{AttributeName: status, KeyType: HASH}, {AttributeName: createdAt, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [owner]}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 2
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
  EventsTopic:
    Type: AWS::SNS::Topic
  OrdersQueue:
    Type: AWS::SQS::Queue
  OrdersSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref EventsTopic
      Protocol: sqs
      Endpoint: !GetAtt OrdersQueue.Arn
      RawMessageDelivery: true
      FilterPolicy:
        type: [order_placed]
  UploadsBucket:
    Type: AWS::S3::Bucket
`

// maxReceiveCount and maxVisibility match standinTemplate and the options the test uses.
const (
	maxReceiveCount = 2
	maxVisibility   = time.Second
)

func TestProvisionOnStandins(t *testing.T) {
	r := standinsFor(t)
	ctx := t.Context()
	tmpl, err := template.Parse([]byte(standinTemplate), "/app")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	opts := Options{MaxVisibilityTimeout: maxVisibility}
	b := template.NewBindings(tmpl, "standins", standinRegion)
	res, err := Provision(ctx, r.clients, tmpl, b, opts)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	again, err := Provision(ctx, r.clients, tmpl, template.NewBindings(tmpl, "standins", standinRegion), opts)
	if err != nil {
		t.Fatalf("second provision against the same stand-ins: %v", err)
	}
	if !reflect.DeepEqual(again, res) {
		t.Errorf("second provision: got %+v, want %+v", again, res)
	}

	t.Run("table", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		table := res.Tables["JobsTable"]
		out, err := r.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table.Name)})
		if err != nil {
			t.Fatalf("describe table: %v", err)
		}
		d := out.Table
		if len(d.GlobalSecondaryIndexes) != 1 {
			t.Fatalf("got %d GSIs, want 1", len(d.GlobalSecondaryIndexes))
		}
		gsi := d.GlobalSecondaryIndexes[0]
		if aws.ToString(gsi.IndexName) != "by-status" || len(gsi.KeySchema) != 2 ||
			aws.ToString(gsi.KeySchema[1].AttributeName) != "createdAt" ||
			gsi.Projection.ProjectionType != ddbtypes.ProjectionTypeInclude ||
			!reflect.DeepEqual(gsi.Projection.NonKeyAttributes, []string{"owner"}) {
			t.Errorf("GSI: got %s %+v %+v, want by-status (status, createdAt) INCLUDE [owner]",
				aws.ToString(gsi.IndexName), gsi.KeySchema, gsi.Projection)
		}
		if s := d.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != ddbtypes.StreamViewTypeNewImage {
			t.Errorf("stream: got %+v, want enabled NEW_IMAGE", s)
		}
		if got := aws.ToString(d.LatestStreamArn); got == "" || got != table.StreamARN {
			t.Errorf("StreamARN: got %q, want DynamoDB Local's %q", table.StreamARN, got)
		}
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
			t.Errorf("billing: got %+v, want PAY_PER_REQUEST", d.BillingModeSummary)
		}
		ttl, err := r.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table.Name)})
		if err != nil {
			t.Fatalf("describe time to live: %v", err)
		}
		if got := ttl.TimeToLiveDescription; got.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(got.AttributeName) != "expiresAt" {
			t.Errorf("TTL: got %s on %q, want ENABLED on expiresAt", got.TimeToLiveStatus, aws.ToString(got.AttributeName))
		}
		wantARN := "arn:aws:dynamodb:" + standinRegion + ":000000000000:table/standins-JobsTable"
		if table.ARN != wantARN {
			t.Errorf("ARN: got %q, want %q", table.ARN, wantARN)
		}
	})

	t.Run("redrive to the dead-letter queue", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		queue, dlq := res.Queues["JobsQueue"], res.Queues["JobsDeadLetterQueue"]
		attrs, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(queue.URL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("get queue attributes: %v", err)
		}
		if got := attrs.Attributes["VisibilityTimeout"]; got != "1" {
			t.Errorf("VisibilityTimeout: got %s, want 1 (180 lowered by MaxVisibilityTimeout)", got)
		}
		if got := attrs.Attributes["RedrivePolicy"]; !strings.Contains(got, dlq.ARN) {
			t.Errorf("RedrivePolicy: got %s, want one naming %s", got, dlq.ARN)
		}

		if _, err := r.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue.URL), MessageBody: aws.String("poison")}); err != nil {
			t.Fatalf("send: %v", err)
		}
		// Receive without deleting, as a failing consumer does, until the message moves on.
		received, dead := 0, ""
		for attempt := 0; attempt < 10 && dead == ""; attempt++ {
			out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue.URL), WaitTimeSeconds: 2})
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			received += len(out.Messages)
			if len(out.Messages) > 0 {
				continue
			}
			d, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq.URL)})
			if err != nil {
				t.Fatalf("receive from the dead-letter queue: %v", err)
			}
			if len(d.Messages) > 0 {
				dead = aws.ToString(d.Messages[0].Body)
			}
		}
		if dead != "poison" {
			t.Fatalf("dead-letter queue: got %q, want the message %q", dead, "poison")
		}
		if received != maxReceiveCount {
			t.Errorf("the queue delivered the message %d times before redrive, want maxReceiveCount = %d", received, maxReceiveCount)
		}
	})

	t.Run("subscription delivers only matching messages, raw", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		topic, queue := res.Topics["EventsTopic"], res.Queues["OrdersQueue"]
		publish := func(body, typ string) {
			t.Helper()
			_, err := r.sns.Publish(ctx, &sns.PublishInput{
				TopicArn: aws.String(topic.ARN),
				Message:  aws.String(body),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{
					"type": {DataType: aws.String("String"), StringValue: aws.String(typ)},
				},
			})
			if err != nil {
				t.Fatalf("publish %s: %v", body, err)
			}
		}
		publish(`{"order":"cancelled"}`, "order_cancelled")
		publish(`{"order":"placed"}`, "order_placed")

		var bodies []string
		for attempt := 0; attempt < 2; attempt++ {
			out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(queue.URL), WaitTimeSeconds: 1, MaxNumberOfMessages: 10,
			})
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			for _, m := range out.Messages {
				bodies = append(bodies, aws.ToString(m.Body))
				// Deleted, or it would come back after the (lowered) visibility timeout.
				if _, err := r.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue.URL), ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatalf("delete: %v", err)
				}
			}
		}
		// Raw delivery: the body is the published message itself, not an SNS envelope.
		if want := []string{`{"order":"placed"}`}; !reflect.DeepEqual(bodies, want) {
			t.Errorf("delivered: got %q, want %q", bodies, want)
		}
	})

	t.Run("bucket", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		bucket := res.Buckets["UploadsBucket"]
		if bucket.Name != "standins-uploadsbucket" {
			t.Errorf("name: got %q, want standins-uploadsbucket", bucket.Name)
		}
		if _, err := r.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket.Name)}); err != nil {
			t.Errorf("head bucket %s: %v", bucket.Name, err)
		}
	})

	t.Run("intrinsics resolve to the provisioned values", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		url, err := r.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("standins-JobsQueue")})
		if err != nil {
			t.Fatalf("get queue url: %v", err)
		}
		attrs, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       url.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("get queue arn: %v", err)
		}
		tests := []struct {
			expr string
			want string
		}{
			{`!GetAtt JobsQueue.Arn`, attrs.Attributes["QueueArn"]},
			{`!Ref JobsQueue`, aws.ToString(url.QueueUrl)},
			{`!Sub "${JobsTable}/index/by-status"`, "standins-JobsTable/index/by-status"},
			{`!Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${JobsTable}"`, res.Tables["JobsTable"].ARN},
			{`!Ref UploadsBucket`, "standins-uploadsbucket"},
			{`!Ref EventsTopic`, res.Topics["EventsTopic"].ARN},
		}
		for _, tt := range tests {
			v := expression(t, tt.expr)
			got, err := b.ResolveString(v)
			if err != nil || got != tt.want {
				t.Errorf("%s: got %q, %v; want %q", tt.expr, got, err, tt.want)
			}
		}
	})
}

// expression parses one intrinsic written in template YAML.
func expression(t *testing.T, expr string) template.Value {
	t.Helper()
	tmpl, err := template.Parse([]byte("Resources:\n  R:\n    Type: T\n    Properties:\n      V: "+expr+"\n"), "/")
	if err != nil {
		t.Fatalf("parse %s: %v", expr, err)
	}
	return tmpl.Resources["R"].Properties["V"]
}
