package provision

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeDynamoDB keeps tables in memory and answers as DynamoDB does for the calls provisioning makes.
type fakeDynamoDB struct {
	creates    []*dynamodb.CreateTableInput
	ttlUpdates []*dynamodb.UpdateTimeToLiveInput
	tables     map[string]*ddbtypes.TableDescription
	ttl        map[string]*ddbtypes.TimeToLiveDescription
}

func newFakeDynamoDB() *fakeDynamoDB {
	return &fakeDynamoDB{tables: map[string]*ddbtypes.TableDescription{}, ttl: map[string]*ddbtypes.TimeToLiveDescription{}}
}

func (f *fakeDynamoDB) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	f.creates = append(f.creates, in)
	name := aws.ToString(in.TableName)
	if _, ok := f.tables[name]; ok {
		return nil, &ddbtypes.ResourceInUseException{Message: aws.String("Table already exists: " + name)}
	}
	d := &ddbtypes.TableDescription{TableName: in.TableName, TableStatus: ddbtypes.TableStatusActive}
	if in.StreamSpecification != nil {
		d.LatestStreamArn = aws.String("arn:aws:dynamodb:ddblocal:000000000000:table/" + name + "/stream/2024-01-01T00:00:00.000")
	}
	f.tables[name] = d
	return &dynamodb.CreateTableOutput{TableDescription: d}, nil
}

func (f *fakeDynamoDB) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	d, ok := f.tables[aws.ToString(in.TableName)]
	if !ok {
		return nil, &ddbtypes.ResourceNotFoundException{}
	}
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

func (f *fakeDynamoDB) UpdateTimeToLive(_ context.Context, in *dynamodb.UpdateTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	f.ttlUpdates = append(f.ttlUpdates, in)
	name := aws.ToString(in.TableName)
	if d := f.ttl[name]; d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
		return nil, errors.New("ValidationException: TimeToLive is already enabled")
	}
	f.ttl[name] = &ddbtypes.TimeToLiveDescription{
		AttributeName:    in.TimeToLiveSpecification.AttributeName,
		TimeToLiveStatus: ddbtypes.TimeToLiveStatusEnabled,
	}
	return &dynamodb.UpdateTimeToLiveOutput{}, nil
}

func (f *fakeDynamoDB) DescribeTimeToLive(_ context.Context, in *dynamodb.DescribeTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	d := f.ttl[aws.ToString(in.TableName)]
	if d == nil {
		d = &ddbtypes.TimeToLiveDescription{TimeToLiveStatus: ddbtypes.TimeToLiveStatusDisabled}
	}
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
}

// fakeSQS keeps queues in memory; like SQS, CreateQueue is idempotent only for equal attributes.
type fakeSQS struct {
	created []string // queue names in creation order
	sets    []*sqs.SetQueueAttributesInput
	queues  map[string]map[string]string // URL → attributes
}

func newFakeSQS() *fakeSQS { return &fakeSQS{queues: map[string]map[string]string{}} }

func fakeQueueURL(name string) string { return "http://sqs.us-east-1.localhost/000000000000/" + name }
func fakeQueueARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

func (f *fakeSQS) CreateQueue(_ context.Context, in *sqs.CreateQueueInput, _ ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	name := aws.ToString(in.QueueName)
	url := fakeQueueURL(name)
	if existing, ok := f.queues[url]; ok {
		for k, v := range in.Attributes {
			if existing[k] != v {
				return nil, &sqstypes.QueueNameExists{Message: aws.String("different value for " + k)}
			}
		}
		return &sqs.CreateQueueOutput{QueueUrl: aws.String(url)}, nil
	}
	f.created = append(f.created, name)
	f.queues[url] = maps.Clone(in.Attributes)
	return &sqs.CreateQueueOutput{QueueUrl: aws.String(url)}, nil
}

func (f *fakeSQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	url := fakeQueueURL(aws.ToString(in.QueueName))
	if _, ok := f.queues[url]; !ok {
		return nil, &sqstypes.QueueDoesNotExist{}
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(url)}, nil
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	url := aws.ToString(in.QueueUrl)
	if _, ok := f.queues[url]; !ok {
		return nil, &sqstypes.QueueDoesNotExist{}
	}
	name := url[strings.LastIndex(url, "/")+1:]
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"QueueArn": fakeQueueARN(name)}}, nil
}

func (f *fakeSQS) SetQueueAttributes(_ context.Context, in *sqs.SetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error) {
	f.sets = append(f.sets, in)
	attrs, ok := f.queues[aws.ToString(in.QueueUrl)]
	if !ok {
		return nil, &sqstypes.QueueDoesNotExist{}
	}
	if _, ok := in.Attributes["FifoQueue"]; ok {
		return nil, &sqstypes.InvalidAttributeName{}
	}
	maps.Copy(attrs, in.Attributes)
	return &sqs.SetQueueAttributesOutput{}, nil
}

// fakeSNS keeps topics and subscriptions in memory; like SNS, Subscribe is idempotent only
// for equal attributes.
type fakeSNS struct {
	topics        map[string]bool
	subscribes    []*sns.SubscribeInput
	subscriptions []fakeSubscription
	sets          []*sns.SetSubscriptionAttributesInput
}

type fakeSubscription struct {
	arn, topic, protocol, endpoint string
	attrs                          map[string]string
}

func newFakeSNS() *fakeSNS { return &fakeSNS{topics: map[string]bool{}} }

func (f *fakeSNS) CreateTopic(_ context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	arn := "arn:aws:sns:us-east-1:000000000000:" + aws.ToString(in.Name)
	f.topics[arn] = true
	return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
}

func (f *fakeSNS) Subscribe(_ context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	f.subscribes = append(f.subscribes, in)
	topic := aws.ToString(in.TopicArn)
	if !f.topics[topic] {
		return nil, &snstypes.NotFoundException{}
	}
	for _, s := range f.subscriptions {
		if s.topic == topic && s.protocol == aws.ToString(in.Protocol) && s.endpoint == aws.ToString(in.Endpoint) {
			if !maps.Equal(s.attrs, in.Attributes) {
				return nil, &snstypes.InvalidParameterException{Message: aws.String("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")}
			}
			return &sns.SubscribeOutput{SubscriptionArn: aws.String(s.arn)}, nil
		}
	}
	s := fakeSubscription{
		arn:      topic + ":sub-" + aws.ToString(in.Endpoint),
		topic:    topic,
		protocol: aws.ToString(in.Protocol),
		endpoint: aws.ToString(in.Endpoint),
		attrs:    maps.Clone(in.Attributes),
	}
	f.subscriptions = append(f.subscriptions, s)
	return &sns.SubscribeOutput{SubscriptionArn: aws.String(s.arn)}, nil
}

func (f *fakeSNS) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	out := &sns.ListSubscriptionsByTopicOutput{}
	for _, s := range f.subscriptions {
		if s.topic == aws.ToString(in.TopicArn) {
			out.Subscriptions = append(out.Subscriptions, snstypes.Subscription{
				SubscriptionArn: aws.String(s.arn), Protocol: aws.String(s.protocol), Endpoint: aws.String(s.endpoint),
			})
		}
	}
	return out, nil
}

func (f *fakeSNS) SetSubscriptionAttributes(_ context.Context, in *sns.SetSubscriptionAttributesInput, _ ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error) {
	f.sets = append(f.sets, in)
	for _, s := range f.subscriptions {
		if s.arn == aws.ToString(in.SubscriptionArn) {
			s.attrs[aws.ToString(in.AttributeName)] = aws.ToString(in.AttributeValue)
			return &sns.SetSubscriptionAttributesOutput{}, nil
		}
	}
	return nil, &snstypes.NotFoundException{}
}

// fakeS3 keeps bucket names; a second CreateBucket says the bucket is already ours.
type fakeS3 struct {
	buckets map[string]bool
	creates []*s3.CreateBucketInput
}

func newFakeS3() *fakeS3 { return &fakeS3{buckets: map[string]bool{}} }

func (f *fakeS3) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	f.creates = append(f.creates, in)
	name := aws.ToString(in.Bucket)
	if f.buckets[name] {
		return nil, &s3types.BucketAlreadyOwnedByYou{}
	}
	f.buckets[name] = true
	return &s3.CreateBucketOutput{}, nil
}

type fakes struct {
	ddb *fakeDynamoDB
	sqs *fakeSQS
	sns *fakeSNS
	s3  *fakeS3
}

func newFakes() fakes {
	return fakes{ddb: newFakeDynamoDB(), sqs: newFakeSQS(), sns: newFakeSNS(), s3: newFakeS3()}
}

func (f fakes) clients() Clients {
	return Clients{DynamoDB: f.ddb, SQS: f.sqs, SNS: f.sns, S3: f.s3}
}
