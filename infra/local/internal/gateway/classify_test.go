package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// classifyCase is one SDK call and the accesses it needs.
type classifyCase struct {
	name string
	call func(ctx context.Context, c clients) error
	want []string
}

// runClassify captures each case's request as the SDK sends it and classifies it.
func runClassify(t *testing.T, service string, tests []classifyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := capture(t, tt.call)
			t.Logf("%s %s", rec.method, rec.requestURI)
			got, err := Classify(service, rec.request(), rec.body, testRegion, testAccount, testQueueARN)
			if err != nil {
				t.Fatalf("Classify(%s %s): %v", rec.method, rec.requestURI, err)
			}
			if !reflect.DeepEqual(summary(got), tt.want) {
				t.Errorf("Classify(%s %s):\n got %q\nwant %q", rec.method, rec.requestURI, summary(got), tt.want)
			}
		})
	}
}

const (
	jobsTable  = "arn:aws:dynamodb:us-east-1:000000000000:table/Jobs"
	usersTable = "arn:aws:dynamodb:us-east-1:000000000000:table/Users"
	jobsStream = "arn:aws:dynamodb:us-east-1:000000000000:table/Jobs/stream/2026-01-01T00:00:00.000"
)

func key(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}
}

func TestClassifyDynamoDB(t *testing.T) {
	runClassify(t, "dynamodb", []classifyCase{
		{"GetItem", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
			return err
		}, []string{"dynamodb:GetItem " + jobsTable}},
		{"PutItem", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Jobs"), Item: key("1")})
			return err
		}, []string{"dynamodb:PutItem " + jobsTable}},
		{"UpdateItem", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Jobs"), Key: key("1"),
				UpdateExpression: aws.String("SET n = :n"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":n": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
			return err
		}, []string{"dynamodb:UpdateItem " + jobsTable}},
		{"DeleteItem", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Jobs"), Key: key("1")})
			return err
		}, []string{"dynamodb:DeleteItem " + jobsTable}},
		{"table named by ARN", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(usersTable), Key: key("1")})
			return err
		}, []string{"dynamodb:GetItem " + usersTable}},
		{"Query on an index", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Jobs"), IndexName: aws.String("ByStatus"),
				KeyConditionExpression: aws.String("s = :s"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
			return err
		}, []string{"dynamodb:Query " + jobsTable + "/index/ByStatus"}},
		{"Query on the table", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Jobs"),
				KeyConditionExpression: aws.String("id = :id"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
			return err
		}, []string{"dynamodb:Query " + jobsTable}},
		{"Scan on an index", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Jobs"), IndexName: aws.String("ByStatus")})
			return err
		}, []string{"dynamodb:Scan " + jobsTable + "/index/ByStatus"}},
		{"BatchGetItem on two tables", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
				"Users": {Keys: []map[string]ddbtypes.AttributeValue{key("1")}},
				"Jobs":  {Keys: []map[string]ddbtypes.AttributeValue{key("1"), key("2")}},
			}})
			return err
		}, []string{"dynamodb:BatchGetItem " + jobsTable, "dynamodb:BatchGetItem " + usersTable}},
		{"BatchWriteItem on two tables needs only BatchWriteItem", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{
				"Jobs":  {{PutRequest: &ddbtypes.PutRequest{Item: key("1")}}, {DeleteRequest: &ddbtypes.DeleteRequest{Key: key("2")}}},
				"Users": {{PutRequest: &ddbtypes.PutRequest{Item: key("1")}}},
			}})
			return err
		}, []string{"dynamodb:BatchWriteItem " + jobsTable, "dynamodb:BatchWriteItem " + usersTable}},
		{"TransactWriteItems: each item its own action", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: aws.String("Jobs"), Item: key("1")}},
				{Update: &ddbtypes.Update{TableName: aws.String("Users"), Key: key("1"), UpdateExpression: aws.String("SET n = :n"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":n": &ddbtypes.AttributeValueMemberN{Value: "1"}}}},
				{Delete: &ddbtypes.Delete{TableName: aws.String("Jobs"), Key: key("2")}},
				{ConditionCheck: &ddbtypes.ConditionCheck{TableName: aws.String("Users"), Key: key("2"), ConditionExpression: aws.String("attribute_exists(id)")}},
				{Put: &ddbtypes.Put{TableName: aws.String("Jobs"), Item: key("3")}},
			}})
			return err
		}, []string{
			"dynamodb:PutItem " + jobsTable, "dynamodb:UpdateItem " + usersTable,
			"dynamodb:DeleteItem " + jobsTable, "dynamodb:ConditionCheckItem " + usersTable,
		}},
		{"TransactGetItems", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{
				{Get: &ddbtypes.Get{TableName: aws.String("Jobs"), Key: key("1")}},
				{Get: &ddbtypes.Get{TableName: aws.String("Users"), Key: key("1")}},
			}})
			return err
		}, []string{"dynamodb:GetItem " + jobsTable, "dynamodb:GetItem " + usersTable}},
		{"DescribeTable", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Jobs")})
			return err
		}, []string{"dynamodb:DescribeTable " + jobsTable}},
		{"ListTables", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, []string{"dynamodb:ListTables *"}},
		{"ListTagsOfResource", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(jobsTable)})
			return err
		}, []string{"dynamodb:ListTagsOfResource " + jobsTable}},
		{"DescribeStream", func(ctx context.Context, c clients) error {
			_, err := c.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(jobsStream)})
			return err
		}, []string{"dynamodb:DescribeStream " + jobsStream}},
		{"GetShardIterator", func(ctx context.Context, c clients) error {
			_, err := c.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(jobsStream),
				ShardId: aws.String("shardId-1"), ShardIteratorType: "TRIM_HORIZON"})
			return err
		}, []string{"dynamodb:GetShardIterator " + jobsStream}},
		{"GetRecords is authorized on the iterator's stream", func(ctx context.Context, c clients) error {
			_, err := c.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(jobsStream + "|1|AAAAAAAAAAEvJp6D")})
			return err
		}, []string{"dynamodb:GetRecords " + jobsStream}},
		{"ListStreams", func(ctx context.Context, c clients) error {
			_, err := c.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("Jobs")})
			return err
		}, []string{"dynamodb:ListStreams *"}},
	})
}

func TestClassifySQS(t *testing.T) {
	entry := func(id string) sqstypes.SendMessageBatchRequestEntry {
		return sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("m")}
	}
	runClassify(t, "sqs", []classifyCase{
		{"SendMessage", func(ctx context.Context, c clients) error {
			_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("m")})
			return err
		}, []string{"sqs:SendMessage " + queueARN}},
		{"SendMessageBatch needs SendMessage", func(ctx context.Context, c clients) error {
			_, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL),
				Entries: []sqstypes.SendMessageBatchRequestEntry{entry("1"), entry("2")}})
			return err
		}, []string{"sqs:SendMessage " + queueARN}},
		{"ReceiveMessage", func(ctx context.Context, c clients) error {
			_, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
			return err
		}, []string{"sqs:ReceiveMessage " + queueARN}},
		{"DeleteMessage", func(ctx context.Context, c clients) error {
			_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String("h")})
			return err
		}, []string{"sqs:DeleteMessage " + queueARN}},
		{"DeleteMessageBatch needs DeleteMessage", func(ctx context.Context, c clients) error {
			_, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL),
				Entries: []sqstypes.DeleteMessageBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("h")}}})
			return err
		}, []string{"sqs:DeleteMessage " + queueARN}},
		{"ChangeMessageVisibility", func(ctx context.Context, c clients) error {
			_, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String("h"), VisibilityTimeout: 5})
			return err
		}, []string{"sqs:ChangeMessageVisibility " + queueARN}},
		{"ChangeMessageVisibilityBatch needs ChangeMessageVisibility", func(ctx context.Context, c clients) error {
			_, err := c.sqs.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(queueURL),
				Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("h")}}})
			return err
		}, []string{"sqs:ChangeMessageVisibility " + queueARN}},
		{"GetQueueAttributes", func(ctx context.Context, c clients) error {
			_, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL)})
			return err
		}, []string{"sqs:GetQueueAttributes " + queueARN}},
		{"queue URL the runner does not know: ARN from its path", func(ctx context.Context, c clients) error {
			_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://sqs.us-east-1.localhost:4566/000000000000/other"), MessageBody: aws.String("m")})
			return err
		}, []string{"sqs:SendMessage arn:aws:sqs:us-east-1:000000000000:other"}},
		{"GetQueueUrl", func(ctx context.Context, c clients) error {
			_, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
			return err
		}, []string{"sqs:GetQueueUrl " + queueARN}},
		{"ListQueues", func(ctx context.Context, c clients) error {
			_, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		}, []string{"sqs:ListQueues *"}},
		{"PurgeQueue", func(ctx context.Context, c clients) error {
			_, err := c.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(queueURL)})
			return err
		}, []string{"sqs:PurgeQueue " + queueARN}},
	})
}

const (
	eventsTopic  = "arn:aws:sns:us-east-1:000000000000:events"
	subscription = eventsTopic + ":6b0e71bd-7e97-4d97-80ce-4a0994e55286"
)

func TestClassifySNS(t *testing.T) {
	runClassify(t, "sns", []classifyCase{
		{"Publish", func(ctx context.Context, c clients) error {
			_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(eventsTopic), Message: aws.String("m")})
			return err
		}, []string{"sns:Publish " + eventsTopic}},
		{"Publish to a TargetArn", func(ctx context.Context, c clients) error {
			_, err := c.sns.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(eventsTopic), Message: aws.String("m")})
			return err
		}, []string{"sns:Publish " + eventsTopic}},
		{"PublishBatch needs Publish", func(ctx context.Context, c clients) error {
			_, err := c.sns.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(eventsTopic),
				PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{{Id: aws.String("1"), Message: aws.String("m")}}})
			return err
		}, []string{"sns:Publish " + eventsTopic}},
		{"Subscribe", func(ctx context.Context, c clients) error {
			_, err := c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(eventsTopic), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)})
			return err
		}, []string{"sns:Subscribe " + eventsTopic}},
		{"Unsubscribe is authorized on the topic", func(ctx context.Context, c clients) error {
			_, err := c.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subscription)})
			return err
		}, []string{"sns:Unsubscribe " + eventsTopic}},
		{"GetTopicAttributes", func(ctx context.Context, c clients) error {
			_, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(eventsTopic)})
			return err
		}, []string{"sns:GetTopicAttributes " + eventsTopic}},
		{"CreateTopic", func(ctx context.Context, c clients) error {
			_, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
			return err
		}, []string{"sns:CreateTopic " + eventsTopic}},
		{"ListTopics", func(ctx context.Context, c clients) error {
			_, err := c.sns.ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}, []string{"sns:ListTopics *"}},
	})
}

const (
	bucket    = "arn:aws:s3:::uploads"
	objectKey = "dir/a b+c=d&e%.txt"
	object    = bucket + "/" + objectKey
)

func TestClassifyS3(t *testing.T) {
	get := func(ctx context.Context, c clients) error {
		_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(objectKey)})
		return err
	}
	runClassify(t, "s3", []classifyCase{
		{"GetObject: key decoded", get, []string{"s3:GetObject " + object}},
		{"GetObject of a version", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), VersionId: aws.String("v1")})
			return err
		}, []string{"s3:GetObjectVersion " + bucket + "/k"}},
		{"HeadObject is authorized as GetObject", func(ctx context.Context, c clients) error {
			_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String(objectKey)})
			return err
		}, []string{"s3:GetObject " + object}},
		{"PutObject", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String(objectKey), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject " + object}},
		{"PutObject with tags needs PutObjectTagging", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Body: strings.NewReader("x"), Tagging: aws.String("a=b")})
			return err
		}, []string{"s3:PutObject " + bucket + "/k", "s3:PutObjectTagging " + bucket + "/k"}},
		{"PutObject with an ACL needs PutObjectAcl", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Body: strings.NewReader("x"), ACL: s3types.ObjectCannedACLPrivate})
			return err
		}, []string{"s3:PutObject " + bucket + "/k", "s3:PutObjectAcl " + bucket + "/k"}},
		{"CopyObject reads its source", func(ctx context.Context, c clients) error {
			_, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("uploads"), Key: aws.String("copy"), CopySource: aws.String("imports/in%20box/a.csv?versionId=v2")})
			return err
		}, []string{"s3:PutObject " + bucket + "/copy", "s3:GetObjectVersion arn:aws:s3:::imports/in box/a.csv"}},
		{"DeleteObject", func(ctx context.Context, c clients) error {
			_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String(objectKey)})
			return err
		}, []string{"s3:DeleteObject " + object}},
		{"DeleteObjects: each key", func(ctx context.Context, c clients) error {
			_, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("uploads"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
				{Key: aws.String("a")}, {Key: aws.String("b & c")}, {Key: aws.String("d"), VersionId: aws.String("v")},
			}}})
			return err
		}, []string{"s3:DeleteObject " + bucket + "/a", "s3:DeleteObject " + bucket + "/b & c", "s3:DeleteObjectVersion " + bucket + "/d"}},
		{"ListObjectsV2", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads"), Prefix: aws.String("dir/")})
			return err
		}, []string{"s3:ListBucket " + bucket}},
		{"ListObjects", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:ListBucket " + bucket}},
		{"ListObjectVersions", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:ListBucketVersions " + bucket}},
		{"HeadBucket", func(ctx context.Context, c clients) error {
			_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:ListBucket " + bucket}},
		{"ListBuckets", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}, []string{"s3:ListAllMyBuckets *"}},
		{"CreateMultipartUpload", func(ctx context.Context, c clients) error {
			_, err := c.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big")})
			return err
		}, []string{"s3:PutObject " + bucket + "/big"}},
		{"UploadPart", func(ctx context.Context, c clients) error {
			_, err := c.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject " + bucket + "/big"}},
		{"UploadPartCopy", func(ctx context.Context, c clients) error {
			_, err := c.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u"), PartNumber: aws.Int32(1), CopySource: aws.String("/imports/a.csv")})
			return err
		}, []string{"s3:PutObject " + bucket + "/big", "s3:GetObject arn:aws:s3:::imports/a.csv"}},
		{"CompleteMultipartUpload", func(ctx context.Context, c clients) error {
			_, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u"),
				MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: aws.String(`"e"`), PartNumber: aws.Int32(1)}}}})
			return err
		}, []string{"s3:PutObject " + bucket + "/big"}},
		{"AbortMultipartUpload", func(ctx context.Context, c clients) error {
			_, err := c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u")})
			return err
		}, []string{"s3:AbortMultipartUpload " + bucket + "/big"}},
		{"ListParts", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u")})
			return err
		}, []string{"s3:ListMultipartUploadParts " + bucket + "/big"}},
		{"ListMultipartUploads", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:ListBucketMultipartUploads " + bucket}},
		{"GetObjectTagging", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
			return err
		}, []string{"s3:GetObjectTagging " + bucket + "/k"}},
		{"PutObjectTagging", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
			return err
		}, []string{"s3:PutObjectTagging " + bucket + "/k"}},
		{"DeleteObjectTagging", func(ctx context.Context, c clients) error {
			_, err := c.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
			return err
		}, []string{"s3:DeleteObjectTagging " + bucket + "/k"}},
		{"GetBucketCors", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketCORS " + bucket}},
		{"PutBucketCors", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("uploads"), CORSConfiguration: &s3types.CORSConfiguration{
				CORSRules: []s3types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}}}}})
			return err
		}, []string{"s3:PutBucketCORS " + bucket}},
		{"DeleteBucketCors needs PutBucketCORS", func(ctx context.Context, c clients) error {
			_, err := c.s3.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:PutBucketCORS " + bucket}},
		{"GetBucketPolicy", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketPolicy " + bucket}},
		{"GetBucketLifecycleConfiguration", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetLifecycleConfiguration " + bucket}},
		{"GetBucketTagging", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketTagging " + bucket}},
		{"PutBucketNotificationConfiguration", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
				NotificationConfiguration: &s3types.NotificationConfiguration{}})
			return err
		}, []string{"s3:PutBucketNotification " + bucket}},
		{"GetBucketVersioning", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketVersioning " + bucket}},
		{"GetBucketEncryption", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetEncryptionConfiguration " + bucket}},
		{"GetBucketOwnershipControls", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketOwnershipControls " + bucket}},
		{"GetPublicAccessBlock", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("uploads")})
			return err
		}, []string{"s3:GetBucketPublicAccessBlock " + bucket}},
		{"GetObjectAttributes", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("uploads"), Key: aws.String("k"),
				ObjectAttributes: []s3types.ObjectAttributes{s3types.ObjectAttributesEtag}})
			return err
		}, []string{"s3:GetObjectAttributes " + bucket + "/k", "s3:GetObject " + bucket + "/k"}},
		{"pre-signed GET", func(ctx context.Context, c clients) error {
			return sendPresigned(ctx, c, func(p *s3.PresignClient) (string, string, http.Header, error) {
				req, err := p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(objectKey)})
				if err != nil {
					return "", "", nil, err
				}
				return req.Method, req.URL, req.SignedHeader, nil
			})
		}, []string{"s3:GetObject " + object}},
		{"pre-signed PUT with tags signed in", func(ctx context.Context, c clients) error {
			return sendPresigned(ctx, c, func(p *s3.PresignClient) (string, string, http.Header, error) {
				req, err := p.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Tagging: aws.String("a=b")})
				if err != nil {
					return "", "", nil, err
				}
				return req.Method, req.URL, req.SignedHeader, nil
			})
		}, []string{"s3:PutObject " + bucket + "/k", "s3:PutObjectTagging " + bucket + "/k"}},
	})
}

// sendPresigned pre-signs a request with the clients' key and sends it as a browser would: the
// URL with exactly the signed headers.
func sendPresigned(ctx context.Context, c clients, presign func(*s3.PresignClient) (method, url string, signed http.Header, err error)) error {
	method, url, signed, err := presign(s3.NewPresignClient(c.s3))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(nil))
	if err != nil {
		return err
	}
	for name, values := range signed {
		if !strings.EqualFold(name, "Host") {
			req.Header[name] = values
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestClassifyLambda(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:000000000000:function:app-ProcessImport"
	invoke := func(name string, qualifier *string, typ lambdatypes.InvocationType) func(ctx context.Context, c clients) error {
		return func(ctx context.Context, c clients) error {
			_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Qualifier: qualifier, InvocationType: typ, Payload: []byte(`{}`)})
			return err
		}
	}
	runClassify(t, "lambda", []classifyCase{
		{"by name", invoke("app-ProcessImport", nil, ""), []string{"lambda:InvokeFunction " + fn}},
		{"asynchronously", invoke("app-ProcessImport", nil, lambdatypes.InvocationTypeEvent), []string{"lambda:InvokeFunction " + fn}},
		{"by ARN", invoke(fn, nil, ""), []string{"lambda:InvokeFunction " + fn}},
		{"by partial ARN", invoke("000000000000:function:app-ProcessImport", nil, ""), []string{"lambda:InvokeFunction " + fn}},
		{"name with an alias: the qualified ARN", invoke("app-ProcessImport:live", nil, ""), []string{"lambda:InvokeFunction " + fn + ":live"}},
		{"Qualifier parameter: the qualified ARN", invoke("app-ProcessImport", aws.String("$LATEST"), ""), []string{"lambda:InvokeFunction " + fn + ":$LATEST"}},
	})
}

func TestClassifyContext(t *testing.T) {
	base := func(extra ...string) map[string][]string {
		ctx := map[string][]string{"aws:SecureTransport": {"true"}, "aws:RequestedRegion": {testRegion}}
		for i := 0; i+1 < len(extra); i += 2 {
			ctx[extra[i]] = []string{extra[i+1]}
		}
		return ctx
	}
	tests := []struct {
		name    string
		service string
		call    func(ctx context.Context, c clients) error
		want    map[string][]string
	}{
		{"DynamoDB", "dynamodb", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
			return err
		}, base()},
		{"SQS", "sqs", func(ctx context.Context, c clients) error {
			_, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		}, base()},
		{"S3 listing with prefix, delimiter and max-keys", "s3", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads"), Prefix: aws.String("home/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(5)})
			return err
		}, base("s3:prefix", "home/", "s3:delimiter", "/", "s3:max-keys", "5",
			"s3:authType", "REST-HEADER", "s3:signatureversion", "AWS4-HMAC-SHA256",
			"s3:x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")},
		{"S3 listing without prefix: s3:prefix is empty", "s3", func(ctx context.Context, c clients) error {
			_, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads")})
			return err
		}, base("s3:prefix", "",
			"s3:authType", "REST-HEADER", "s3:signatureversion", "AWS4-HMAC-SHA256",
			"s3:x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")},
		{"S3 upload with SSE-KMS headers", "s3", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Body: strings.NewReader(""),
				ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k1")})
			return err
		}, base("s3:authType", "REST-HEADER", "s3:signatureversion", "AWS4-HMAC-SHA256",
			"s3:x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"s3:x-amz-server-side-encryption", "aws:kms",
			"s3:x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:000000000000:key/k1")},
		{"S3 pre-signed URL", "s3", func(ctx context.Context, c clients) error {
			return sendPresigned(ctx, c, func(p *s3.PresignClient) (string, string, http.Header, error) {
				req, err := p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
				if err != nil {
					return "", "", nil, err
				}
				return req.Method, req.URL, req.SignedHeader, nil
			})
		}, base("s3:authType", "REST-QUERY-STRING", "s3:signatureversion", "AWS4-HMAC-SHA256")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := capture(t, tt.call)
			got, err := Classify(tt.service, rec.request(), rec.body, testRegion, testAccount, testQueueARN)
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0].Context, tt.want) {
				t.Errorf("Classify(%s %s) context:\n got %v\nwant %v", rec.method, rec.requestURI, got, tt.want)
			}
		})
	}
}

func TestClassifyKMS(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:000000000000:key/1234"
	kmsKey := func(b string) string {
		if b == "uploads" {
			return key
		}
		return ""
	}
	tests := []struct {
		name string
		call func(ctx context.Context, c clients) error
		want []string
	}{
		{"PutObject generates a data key", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject " + bucket + "/k", "kms:GenerateDataKey " + key}},
		{"GetObject decrypts", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
			return err
		}, []string{"s3:GetObject " + bucket + "/k", "kms:Decrypt " + key}},
		{"HeadObject reads no data", func(ctx context.Context, c clients) error {
			_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
			return err
		}, []string{"s3:GetObject " + bucket + "/k"}},
		{"HeadObject with checksum mode decrypts the stored checksum", func(ctx context.Context, c clients) error {
			_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled})
			return err
		}, []string{"s3:GetObject " + bucket + "/k", "kms:Decrypt " + key}},
		{"CreateMultipartUpload generates a data key", func(ctx context.Context, c clients) error {
			_, err := c.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big")})
			return err
		}, []string{"s3:PutObject " + bucket + "/big", "kms:GenerateDataKey " + key}},
		{"UploadPart decrypts the upload's data key", func(ctx context.Context, c clients) error {
			_, err := c.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("uploads"), Key: aws.String("big"), UploadId: aws.String("u"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject " + bucket + "/big", "kms:Decrypt " + key}},
		{"copy out of the encrypted bucket decrypts the source", func(ctx context.Context, c clients) error {
			_, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("imports"), Key: aws.String("k"), CopySource: aws.String("uploads/k")})
			return err
		}, []string{"s3:PutObject arn:aws:s3:::imports/k", "s3:GetObject " + bucket + "/k", "kms:Decrypt " + key}},
		{"a bucket without a key needs no KMS", func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject arn:aws:s3:::imports/k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := capture(t, tt.call)
			env := environment{region: testRegion, account: testAccount, bucketKMSKey: kmsKey}
			c, err := classify("s3", rec.request(), rec.body, env)
			if err != nil {
				t.Fatalf("classify: %v", err)
			}
			if got := summary(c.accesses); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("classify(%s %s):\n got %q\nwant %q", rec.method, rec.requestURI, got, tt.want)
			}
			for _, a := range c.accesses {
				if !strings.HasPrefix(a.Action, "kms:") {
					continue
				}
				want := map[string][]string{"aws:SecureTransport": {"true"}, "aws:RequestedRegion": {testRegion},
					"kms:ViaService": {"s3.us-east-1.amazonaws.com"}, "kms:CallerAccount": {testAccount}}
				if !reflect.DeepEqual(a.Context, want) {
					t.Errorf("%s context: got %v, want %v", a.Action, a.Context, want)
				}
			}
		})
	}
}

func TestClassifyRefusesWhatItDoesNotUnderstand(t *testing.T) {
	tests := []struct {
		name    string
		service string
		call    func(ctx context.Context, c clients) error
		want    error
	}{
		{"PartiQL", "dynamodb", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Jobs"`)})
			return err
		}, ErrUnsupported},
		{"SQS message move task", "sqs", func(ctx context.Context, c clients) error {
			_, err := c.sqs.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN)})
			return err
		}, ErrUnsupported},
		{"SNS SMS attributes", "sns", func(ctx context.Context, c clients) error {
			_, err := c.sns.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{})
			return err
		}, ErrUnsupported},
		{"S3 analytics configuration", "s3", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketAnalyticsConfiguration(ctx, &s3.GetBucketAnalyticsConfigurationInput{Bucket: aws.String("uploads"), Id: aws.String("a")})
			return err
		}, ErrUnsupported},
		{"Lambda GetFunction", "lambda", func(ctx context.Context, c clients) error {
			_, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
			return err
		}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := capture(t, tt.call)
			got, err := Classify(tt.service, rec.request(), rec.body, testRegion, testAccount, testQueueARN)
			if !errors.Is(err, tt.want) {
				t.Errorf("Classify(%s %s) = %q, %v; want an error wrapping %v", rec.method, rec.requestURI, summary(got), err, tt.want)
			}
		})
	}
}

func TestClassifyRefusesMalformedRequests(t *testing.T) {
	tests := []struct {
		name    string
		service string
		method  string
		target  string
		url     string
		body    string
		header  http.Header
		want    error
	}{
		{"unknown service", "kinesis", "POST", "", "/", "{}", nil, ErrUnsupported},
		{"DynamoDB GetItem without TableName", "dynamodb", "POST", "DynamoDB_20120810.GetItem", "/", `{"Key":{}}`, nil, ErrMalformed},
		{"DynamoDB body not JSON", "dynamodb", "POST", "DynamoDB_20120810.GetItem", "/", "{", nil, ErrMalformed},
		{"DynamoDB unknown target prefix", "dynamodb", "POST", "AmazonSQS.SendMessage", "/", "{}", nil, ErrUnsupported},
		{"DynamoDB transaction item naming two operations", "dynamodb", "POST", "DynamoDB_20120810.TransactWriteItems", "/",
			`{"TransactItems":[{"Put":{"TableName":"A"},"Delete":{"TableName":"B"}}]}`, nil, ErrMalformed},
		{"DynamoDB Streams iterator without a stream ARN", "dynamodb", "POST", "DynamoDBStreams_20120810.GetRecords", "/",
			`{"ShardIterator":"opaque"}`, nil, ErrUnsupported},
		{"SQS query protocol", "sqs", "POST", "", "/", "Action=SendMessage&QueueUrl=x", nil, ErrUnsupported},
		{"SQS queue URL without account and name", "sqs", "POST", "AmazonSQS.SendMessage", "/", `{"QueueUrl":"http://sqs.us-east-1.localhost/jobs"}`, nil, ErrMalformed},
		{"SNS without Action", "sns", "POST", "", "/", "TopicArn=x", nil, ErrMalformed},
		{"SNS Publish without a topic", "sns", "POST", "", "/", "Action=Publish&Message=m", nil, ErrMalformed},
		{"S3 browser POST upload", "s3", "POST", "", "/uploads", "", nil, ErrUnsupported},
		{"S3 two sub-resources", "s3", "GET", "", "/uploads?cors&policy", "", nil, ErrUnsupported},
		{"S3 sub-resource with the wrong method", "s3", "POST", "", "/uploads/k?tagging", "", nil, ErrUnsupported},
		{"S3 DeleteObjects body not XML", "s3", "POST", "", "/uploads?delete", "<Delete>", nil, ErrMalformed},
		{"S3 copy source without a key", "s3", "PUT", "", "/uploads/k", "", http.Header{"X-Amz-Copy-Source": {"onlybucket"}}, ErrMalformed},
		{"Lambda function name with too many parts", "lambda", "POST", "", "/2015-03-31/functions/a:b:c/invocations", "", nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "http://127.0.0.1"+tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			for name, values := range tt.header {
				r.Header[name] = values
			}
			got, err := Classify(tt.service, r, []byte(tt.body), testRegion, testAccount, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("Classify(%s %s) = %q, %v; want an error wrapping %v", tt.method, tt.url, summary(got), err, tt.want)
			}
		})
	}
}

func TestReadSignature(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		url        string
		wantKey    string
		wantSigned bool
		wantPre    bool
	}{
		{"SigV4 header", "AWS4-HMAC-SHA256 Credential=ASIAX/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			"/", "ASIAX", true, false},
		{"SigV4 header without spaces", "AWS4-HMAC-SHA256 Credential=ASIAX/20260101/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc",
			"/", "ASIAX", true, false},
		{"SigV2 header", "AWS ASIAX:c2lnbmF0dXJl", "/", "ASIAX", true, false},
		{"malformed header: signed by no key", "Bearer token", "/", "", true, false},
		{"pre-signed URL", "", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAX%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc",
			"ASIAX", true, true},
		{"unsigned", "", "/b/k", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1"+tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			sig, signed := readSignature(r)
			if sig.accessKeyID != tt.wantKey || signed != tt.wantSigned || sig.presigned != tt.wantPre {
				t.Errorf("readSignature: got key %q signed %v presigned %v, want %q %v %v", sig.accessKeyID, signed, sig.presigned, tt.wantKey, tt.wantSigned, tt.wantPre)
			}
		})
	}
}

func TestDeniedMessage(t *testing.T) {
	const user = "arn:aws:sts::000000000000:assumed-role/r/f"
	tests := []struct {
		name     string
		access   Access
		explicit bool
		want     string
	}{
		{"DynamoDB", Access{Action: "dynamodb:GetItem", Resource: jobsTable}, false,
			"User: " + user + " is not authorized to perform: dynamodb:GetItem on resource: " + jobsTable + " because no identity-based policy allows the dynamodb:GetItem action"},
		{"explicit deny", Access{Action: "dynamodb:GetItem", Resource: jobsTable}, true,
			"User: " + user + " is not authorized to perform: dynamodb:GetItem on resource: " + jobsTable + " with an explicit deny in an identity-based policy"},
		{"SQS lower-cases the action", Access{Action: "sqs:SendMessage", Resource: queueARN}, false,
			"User: " + user + " is not authorized to perform: sqs:sendmessage on resource: " + queueARN + " because no identity-based policy allows the sqs:sendmessage action"},
		{"SNS upper-cases its prefix", Access{Action: "sns:Publish", Resource: eventsTopic}, false,
			"User: " + user + " is not authorized to perform: SNS:Publish on resource: " + eventsTopic + " because no identity-based policy allows the SNS:Publish action"},
		{"S3 quotes the resource", Access{Action: "s3:GetObject", Resource: bucket + "/k"}, false,
			"User: " + user + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::uploads/k" because no identity-based policy allows the s3:GetObject action`},
		{"KMS through S3 does not", Access{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:000000000000:key/1"}, false,
			"User: " + user + " is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:000000000000:key/1 because no identity-based policy allows the kms:Decrypt action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deniedMessage(user, tt.access, tt.explicit); got != tt.want {
				t.Errorf("deniedMessage:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
