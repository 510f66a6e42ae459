package provision

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/infra/local/template"
)

const stack = "app"

func parse(t *testing.T, src string) (*template.Template, *template.Bindings) {
	t.Helper()
	tmpl, err := template.Parse([]byte(src), "/app")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return tmpl, template.NewBindings(tmpl, stack, "us-east-1")
}

func resolve(t *testing.T, b *template.Bindings, expr template.Value) string {
	t.Helper()
	s, err := b.ResolveString(expr)
	if err != nil {
		t.Fatalf("resolve %v: %v", expr, err)
	}
	return s
}

func ref(id string) template.Value { return map[string]template.Value{"Ref": id} }
func att(id, attr string) template.Value {
	return map[string]template.Value{"Fn::GetAtt": []template.Value{id, attr}}
}

const tableTemplate = `
Resources:
  JobsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [createdAt]}
      LocalSecondaryIndexes:
        - IndexName: by-status-local
          KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: status, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
      Tags: [{Key: owner, Value: !Ref SomethingNotProvisioned}]
`

func TestProvisionTable(t *testing.T) {
	f := newFakes()
	tmpl, b := parse(t, tableTemplate)
	res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	if len(f.ddb.creates) != 1 {
		t.Fatalf("got %d CreateTable calls, want 1", len(f.ddb.creates))
	}
	in := f.ddb.creates[0]
	if got := aws.ToString(in.TableName); got != "app-JobsTable" {
		t.Errorf("TableName: got %q, want app-JobsTable", got)
	}
	if in.BillingMode != ddbtypes.BillingModePayPerRequest || in.ProvisionedThroughput != nil {
		t.Errorf("billing: got %v %v, want PAY_PER_REQUEST without throughput", in.BillingMode, in.ProvisionedThroughput)
	}
	if len(in.KeySchema) != 2 || aws.ToString(in.KeySchema[1].AttributeName) != "sk" || in.KeySchema[1].KeyType != ddbtypes.KeyTypeRange {
		t.Errorf("KeySchema: got %+v, want pk HASH, sk RANGE", in.KeySchema)
	}
	if len(in.AttributeDefinitions) != 3 || in.AttributeDefinitions[2].AttributeType != ddbtypes.ScalarAttributeTypeS {
		t.Errorf("AttributeDefinitions: got %+v, want 3 string attributes", in.AttributeDefinitions)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("got %d GSIs, want 1", len(in.GlobalSecondaryIndexes))
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "by-status" || gsi.Projection.ProjectionType != ddbtypes.ProjectionTypeInclude ||
		!reflect.DeepEqual(gsi.Projection.NonKeyAttributes, []string{"createdAt"}) || gsi.ProvisionedThroughput != nil {
		t.Errorf("GSI: got %+v %+v, want by-status INCLUDE [createdAt]", gsi, gsi.Projection)
	}
	if len(in.LocalSecondaryIndexes) != 1 || in.LocalSecondaryIndexes[0].Projection.ProjectionType != ddbtypes.ProjectionTypeKeysOnly {
		t.Errorf("LSI: got %+v, want by-status-local KEYS_ONLY", in.LocalSecondaryIndexes)
	}
	if s := in.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("StreamSpecification: got %+v, want enabled NEW_AND_OLD_IMAGES", s)
	}
	if len(f.ddb.ttlUpdates) != 1 || aws.ToString(f.ddb.ttlUpdates[0].TimeToLiveSpecification.AttributeName) != "expiresAt" {
		t.Errorf("got TTL updates %+v, want one on expiresAt", f.ddb.ttlUpdates)
	}

	streamARN := aws.ToString(f.ddb.tables["app-JobsTable"].LatestStreamArn)
	want := Table{
		LogicalID: "JobsTable",
		Name:      "app-JobsTable",
		ARN:       "arn:aws:dynamodb:us-east-1:000000000000:table/app-JobsTable",
		StreamARN: streamARN,
	}
	if got := res.Tables["JobsTable"]; got != want {
		t.Errorf("Tables[JobsTable]: got %+v, want %+v", got, want)
	}
	if got, ok := res.TableByStreamARN(streamARN); !ok || got != want {
		t.Errorf("TableByStreamARN: got %+v %v, want %+v", got, ok, want)
	}
	if got := resolve(t, b, ref("JobsTable")); got != want.Name {
		t.Errorf("Ref: got %q, want %q", got, want.Name)
	}
	if got := resolve(t, b, att("JobsTable", "Arn")); got != want.ARN {
		t.Errorf("GetAtt Arn: got %q, want %q", got, want.ARN)
	}
	if got := resolve(t, b, att("JobsTable", "StreamArn")); got != streamARN {
		t.Errorf("GetAtt StreamArn: got %q, want %q", got, streamARN)
	}

	// A second run reuses the table and leaves its TTL alone (UpdateTimeToLive would fail).
	again, err := Provision(context.Background(), f.clients(), tmpl, template.NewBindings(tmpl, stack, "us-east-1"), Options{})
	if err != nil {
		t.Fatalf("second provision: %v", err)
	}
	if got := again.Tables["JobsTable"]; got != want {
		t.Errorf("second run: got %+v, want %+v", got, want)
	}
	if len(f.ddb.ttlUpdates) != 1 {
		t.Errorf("second run: got %d TTL updates in all, want 1", len(f.ddb.ttlUpdates))
	}
}

func TestCreateTableInput(t *testing.T) {
	keys := []keyElement{{AttributeName: "pk", KeyType: "HASH"}}
	tests := []struct {
		name    string
		props   tableProperties
		wantErr string
		check   func(t *testing.T, props tableProperties)
	}{
		{
			name: "provisioned throughput on table and index",
			props: tableProperties{
				TableName:             "t",
				KeySchema:             keys,
				BillingMode:           "PROVISIONED",
				ProvisionedThroughput: &throughput{ReadCapacityUnits: flexInt{true, 5}, WriteCapacityUnits: flexInt{true, 2}},
				GlobalSecondaryIndexes: []secondaryIndex{{
					IndexName: "g", KeySchema: keys, Projection: projection{ProjectionType: "ALL"},
					ProvisionedThroughput: &throughput{ReadCapacityUnits: flexInt{true, 1}, WriteCapacityUnits: flexInt{true, 1}},
				}},
			},
		},
		{
			name:    "provisioned without throughput",
			props:   tableProperties{KeySchema: keys, BillingMode: "PROVISIONED"},
			wantErr: "PROVISIONED without ProvisionedThroughput",
		},
		{
			name:    "index without throughput on a provisioned table",
			props:   tableProperties{KeySchema: keys, BillingMode: "PROVISIONED", ProvisionedThroughput: &throughput{}, GlobalSecondaryIndexes: []secondaryIndex{{IndexName: "g", KeySchema: keys}}},
			wantErr: "index g",
		},
		{
			name:    "no key schema",
			props:   tableProperties{TableName: "t"},
			wantErr: "no KeySchema",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := createTableInput(tt.props)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 || aws.ToInt64(in.GlobalSecondaryIndexes[0].ProvisionedThroughput.WriteCapacityUnits) != 1 {
				t.Errorf("got %+v, want table 5/2 and index 1/1", in)
			}
		})
	}
}

const queueTemplate = `
Resources:
  AQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
      MessageRetentionPeriod: "1209600"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetterQueue.Arn
        maxReceiveCount: 3
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-dead-letters"
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      ContentBasedDeduplication: true
`

func TestProvisionQueues(t *testing.T) {
	f := newFakes()
	tmpl, b := parse(t, queueTemplate)
	res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	wantOrder := []string{"app-dead-letters", "app-AQueue", "app-OrdersQueue.fifo"}
	if !reflect.DeepEqual(f.sqs.created, wantOrder) {
		t.Errorf("creation order: got %v, want %v (dead-letter queue first)", f.sqs.created, wantOrder)
	}
	wantAttrs := map[string]string{
		"VisibilityTimeout":      "180",
		"MessageRetentionPeriod": "1209600",
		"RedrivePolicy":          `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:app-dead-letters","maxReceiveCount":3}`,
	}
	if got := f.sqs.queues[fakeQueueURL("app-AQueue")]; !reflect.DeepEqual(got, wantAttrs) {
		t.Errorf("AQueue attributes: got %v, want %v", got, wantAttrs)
	}
	wantFifo := map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"}
	if got := f.sqs.queues[fakeQueueURL("app-OrdersQueue.fifo")]; !reflect.DeepEqual(got, wantFifo) {
		t.Errorf("OrdersQueue attributes: got %v, want %v", got, wantFifo)
	}

	want := Queue{LogicalID: "AQueue", Name: "app-AQueue", URL: fakeQueueURL("app-AQueue"), ARN: fakeQueueARN("app-AQueue"), VisibilityTimeout: 180 * time.Second}
	if got := res.Queues["AQueue"]; got != want {
		t.Errorf("Queues[AQueue]: got %+v, want %+v", got, want)
	}
	if got, ok := res.QueueByARN(want.ARN); !ok || got != want {
		t.Errorf("QueueByARN: got %+v %v, want %+v", got, ok, want)
	}
	if _, ok := res.QueueByARN("arn:aws:sqs:us-east-1:000000000000:nope"); ok {
		t.Error("QueueByARN of an unknown ARN: got ok")
	}
	for _, c := range []struct {
		expr template.Value
		want string
	}{
		{ref("AQueue"), want.URL},
		{att("AQueue", "Arn"), want.ARN},
		{att("AQueue", "QueueName"), want.Name},
		{att("OrdersQueue", "QueueName"), "app-OrdersQueue.fifo"},
	} {
		if got := resolve(t, b, c.expr); got != c.want {
			t.Errorf("resolve %v: got %q, want %q", c.expr, got, c.want)
		}
	}

	// Again, with the test-speed option: the existing queue's attributes are updated in place.
	lowered, err := Provision(context.Background(), f.clients(), tmpl, template.NewBindings(tmpl, stack, "us-east-1"),
		Options{MaxVisibilityTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("second provision: %v", err)
	}
	if got := f.sqs.queues[fakeQueueURL("app-AQueue")]["VisibilityTimeout"]; got != "2" {
		t.Errorf("VisibilityTimeout after the second run: got %q, want 2", got)
	}
	if got := lowered.Queues["AQueue"].VisibilityTimeout; got != 2*time.Second {
		t.Errorf("Queues[AQueue].VisibilityTimeout after the second run: got %v, want 2s", got)
	}
	if got := f.sqs.queues[fakeQueueURL("app-OrdersQueue.fifo")]["VisibilityTimeout"]; got != "2" {
		t.Errorf("FIFO VisibilityTimeout after the second run: got %q, want 2", got)
	}
	if len(f.sqs.created) != 3 {
		t.Errorf("second run created queues: got %v", f.sqs.created)
	}

	// And without it: the declared values come back, SQS's default included.
	restored, err := Provision(context.Background(), f.clients(), tmpl, template.NewBindings(tmpl, stack, "us-east-1"), Options{})
	if err != nil {
		t.Fatalf("third provision: %v", err)
	}
	for id, want := range map[string]int{"AQueue": 180, "OrdersQueue": 30} {
		q := restored.Queues[id]
		if got := f.sqs.queues[q.URL]["VisibilityTimeout"]; got != strconv.Itoa(want) || q.VisibilityTimeout != time.Duration(want)*time.Second {
			t.Errorf("%s after the third run: got VisibilityTimeout %q, recorded %v; want %d s", id, got, q.VisibilityTimeout, want)
		}
	}
}

// consumersTemplate has a queue for each way MaxVisibilityTimeout meets the Timeouts of the
// functions a queue feeds through SQS events.
const consumersTemplate = `
Globals:
  Function: {Timeout: 10}
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn, maxReceiveCount: 3}
  WorkDeadLetterQueue: {Type: AWS::SQS::Queue}
  SharedQueue: {Type: AWS::SQS::Queue}
  ShortQueue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 20}
  TooShortQueue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 5}
  DisabledQueue: {Type: AWS::SQS::Queue}
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/work
      Timeout: 30
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt WorkQueue.Arn}}
        Shared: {Type: SQS, Properties: {Queue: !GetAtt SharedQueue.Arn}}
  AuditFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/work
      Events:
        Shared: {Type: SQS, Properties: {Queue: !GetAtt SharedQueue.Arn}}
        Short: {Type: SQS, Properties: {Queue: !Sub "arn:aws:sqs:${AWS::Region}:000000000000:app-ShortQueue"}}
        TooShort: {Type: SQS, Properties: {Queue: !GetAtt TooShortQueue.Arn}}
        Disabled: {Type: SQS, Properties: {Queue: !GetAtt DisabledQueue.Arn, Enabled: false}}
        Elsewhere: {Type: SQS, Properties: {Queue: "arn:aws:sqs:us-east-1:000000000000:elsewhere"}}
        Unresolved: {Type: SQS, Properties: {Queue: !GetAtt Nowhere.Arn}}
        Api: {Type: HttpApi, Properties: {Method: get, Path: /audit}}
  SecondFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/work
      Timeout: 1
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt WorkQueue.Arn}}
`

func TestProvisionLowersVisibilityToTheConsumersTimeout(t *testing.T) {
	tests := []struct {
		name string
		max  time.Duration
		// want is each queue's visibility timeout in seconds.
		want map[string]int
	}{
		{
			name: "without a maximum, as declared",
			want: map[string]int{"WorkQueue": 180, "WorkDeadLetterQueue": 30, "SharedQueue": 30, "ShortQueue": 20, "TooShortQueue": 5, "DisabledQueue": 30},
		},
		{
			// WorkQueue: the longer of its two consumers' Timeouts (30 s, not 1 s); SharedQueue: of
			// two functions, 30 s and the Globals' 10 s; ShortQueue, found by an ARN written out:
			// AuditFunction's 10 s; TooShortQueue: its 5 s, never raised to 10 s (the runner refuses
			// it, as AWS does); DisabledQueue: a disabled event counts, as AWS checks it too; the
			// dead-letter queue, which no event reads: the maximum.
			name: "a maximum below every Timeout",
			max:  2 * time.Second,
			want: map[string]int{"WorkQueue": 30, "WorkDeadLetterQueue": 2, "SharedQueue": 30, "ShortQueue": 10, "TooShortQueue": 5, "DisabledQueue": 10},
		},
		{
			name: "a maximum between the Timeouts",
			max:  15 * time.Second,
			want: map[string]int{"WorkQueue": 30, "WorkDeadLetterQueue": 15, "SharedQueue": 30, "ShortQueue": 15, "TooShortQueue": 5, "DisabledQueue": 15},
		},
		{
			name: "a maximum rounds up to whole seconds",
			max:  1500 * time.Millisecond,
			want: map[string]int{"WorkQueue": 30, "WorkDeadLetterQueue": 2, "SharedQueue": 30, "ShortQueue": 10, "TooShortQueue": 5, "DisabledQueue": 10},
		},
		{
			name: "a maximum above the declared values",
			max:  time.Hour,
			want: map[string]int{"WorkQueue": 180, "WorkDeadLetterQueue": 30, "SharedQueue": 30, "ShortQueue": 20, "TooShortQueue": 5, "DisabledQueue": 30},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes()
			tmpl, b := parse(t, consumersTemplate)
			res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{MaxVisibilityTimeout: tt.max})
			if err != nil {
				t.Fatalf("provision: %v", err)
			}
			got := map[string]int{}
			for id, q := range res.Queues {
				got[id] = int(q.VisibilityTimeout / time.Second)
				if attr := f.sqs.queues[q.URL]["VisibilityTimeout"]; attr != strconv.Itoa(got[id]) {
					t.Errorf("%s: the stand-in has VisibilityTimeout %s, Queues records %v", id, attr, q.VisibilityTimeout)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestLoweredVisibilityTimeout(t *testing.T) {
	tests := []struct {
		name                            string
		declared, limit, consumer, want time.Duration
	}{
		{name: "no consumer: the limit", declared: 180 * time.Second, limit: 2 * time.Second, want: 2 * time.Second},
		{name: "the consumer's Timeout above the limit", declared: 180 * time.Second, limit: 2 * time.Second, consumer: 30 * time.Second, want: 30 * time.Second},
		{name: "the limit above the consumer's Timeout", declared: 180 * time.Second, limit: 45 * time.Second, consumer: 30 * time.Second, want: 45 * time.Second},
		{name: "equal", declared: 180 * time.Second, limit: 30 * time.Second, consumer: 30 * time.Second, want: 30 * time.Second},
		{name: "declared below both: kept", declared: 20 * time.Second, limit: 25 * time.Second, consumer: 30 * time.Second, want: 20 * time.Second},
		{name: "limit rounded up", declared: 60 * time.Second, limit: 1001 * time.Millisecond, want: 2 * time.Second},
		{name: "consumer rounded up", declared: 60 * time.Second, limit: time.Second, consumer: 2500 * time.Millisecond, want: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loweredVisibilityTimeout(tt.declared, tt.limit, tt.consumer); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueueAttributes(t *testing.T) {
	vt := func(n int64) flexInt { return flexInt{set: true, n: n} }
	tests := []struct {
		name    string
		props   queueProperties
		want    map[string]string
		wantErr string
	}{
		{name: "nothing declared: SQS's default visibility", want: map[string]string{"VisibilityTimeout": "30"}},
		{name: "declared visibility", props: queueProperties{VisibilityTimeout: vt(300)}, want: map[string]string{"VisibilityTimeout": "300"}},
		{name: "standard queue carries no FifoQueue", props: queueProperties{FifoQueue: flexBool{set: true}, ContentBasedDeduplication: flexBool{set: true, b: true}}, want: map[string]string{"VisibilityTimeout": "30"}},
		{
			name:  "fifo settings",
			props: queueProperties{FifoQueue: flexBool{true, true}, DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId", DelaySeconds: vt(0)},
			want:  map[string]string{"FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId", "DelaySeconds": "0", "VisibilityTimeout": "30"},
		},
		{
			name:  "redrive written as a JSON string",
			props: queueProperties{RedrivePolicy: jsonDocument{true, map[string]any{"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": "5"}}},
			want:  map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":5}`, "VisibilityTimeout": "30"},
		},
		{
			name:  "redrive allow policy",
			props: queueProperties{RedriveAllowPolicy: jsonDocument{true, map[string]any{"redrivePermission": "allowAll"}}},
			want:  map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"allowAll"}`, "VisibilityTimeout": "30"},
		},
		{name: "redrive without target", props: queueProperties{RedrivePolicy: jsonDocument{true, map[string]any{"maxReceiveCount": 3.0}}}, wantErr: "no deadLetterTargetArn"},
		{name: "redrive without count", props: queueProperties{RedrivePolicy: jsonDocument{true, map[string]any{"deadLetterTargetArn": "arn:dlq"}}}, wantErr: "no maxReceiveCount"},
		{name: "redrive count zero", props: queueProperties{RedrivePolicy: jsonDocument{true, map[string]any{"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 0.0}}}, wantErr: "below 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := queueAttributes(tt.props)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const snsTemplate = `
Resources:
  EventsTopic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription:
        - {Protocol: sqs, Endpoint: !GetAtt AuditQueue.Arn}
        - {Protocol: email, Endpoint: ops@example.com}
  AuditQueue: {Type: AWS::SQS::Queue}
  OrdersQueue: {Type: AWS::SQS::Queue}
  OrdersSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref EventsTopic
      Protocol: sqs
      Endpoint: !GetAtt OrdersQueue.Arn
      RawMessageDelivery: true
      FilterPolicyScope: MessageAttributes
      FilterPolicy:
        type: [order_placed]
        amount: [{numeric: [">", 100]}]
  ZNotifyFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: services/notify}
  NotifyFunctionSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref EventsTopic
      Protocol: lambda
      Endpoint: !GetAtt ZNotifyFunction.Arn
`

func TestProvisionTopicAndSubscriptions(t *testing.T) {
	f := newFakes()
	tmpl, b := parse(t, snsTemplate)
	res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	topicARN := "arn:aws:sns:us-east-1:000000000000:app-EventsTopic"
	if got, want := res.Topics["EventsTopic"], (Topic{LogicalID: "EventsTopic", Name: "app-EventsTopic", ARN: topicARN}); got != want {
		t.Errorf("Topics[EventsTopic]: got %+v, want %+v", got, want)
	}
	if got := resolve(t, b, ref("EventsTopic")); got != topicARN {
		t.Errorf("Ref EventsTopic: got %q, want %q", got, topicARN)
	}
	if got := resolve(t, b, att("EventsTopic", "TopicName")); got != "app-EventsTopic" {
		t.Errorf("GetAtt TopicName: got %q, want app-EventsTopic", got)
	}

	if len(f.sns.subscribes) != 2 {
		t.Fatalf("got %d Subscribe calls, want 2 (inline sqs, OrdersSubscription)", len(f.sns.subscribes))
	}
	inline := f.sns.subscribes[0]
	if aws.ToString(inline.Endpoint) != fakeQueueARN("app-AuditQueue") || len(inline.Attributes) != 0 {
		t.Errorf("inline subscription: got %s %v, want the AuditQueue ARN without attributes", aws.ToString(inline.Endpoint), inline.Attributes)
	}
	orders := f.sns.subscribes[1]
	wantAttrs := map[string]string{
		"RawMessageDelivery": "true",
		"FilterPolicyScope":  "MessageAttributes",
		"FilterPolicy":       `{"amount":[{"numeric":[">",100]}],"type":["order_placed"]}`,
	}
	if aws.ToString(orders.Endpoint) != fakeQueueARN("app-OrdersQueue") || aws.ToString(orders.TopicArn) != topicARN ||
		!reflect.DeepEqual(orders.Attributes, wantAttrs) {
		t.Errorf("OrdersSubscription: got %s → %s %v, want %v", aws.ToString(orders.TopicArn), aws.ToString(orders.Endpoint), orders.Attributes, wantAttrs)
	}
	if len(res.Subscriptions) != 2 || res.Subscriptions[0].LogicalID != "EventsTopic.Subscription[0]" || res.Subscriptions[1].LogicalID != "OrdersSubscription" {
		t.Errorf("Subscriptions: got %+v, want the inline one then OrdersSubscription", res.Subscriptions)
	}
	if got := resolve(t, b, ref("OrdersSubscription")); got != res.Subscriptions[1].ARN || got == "" {
		t.Errorf("Ref OrdersSubscription: got %q, want %q", got, res.Subscriptions[1].ARN)
	}
	wantSkipped := []Skipped{
		{LogicalID: "EventsTopic.Subscription[1]", Type: "AWS::SNS::Subscription", Reason: "protocol email: the SNS stand-in delivers only to SQS queues"},
		{LogicalID: "NotifyFunctionSubscription", Type: "AWS::SNS::Subscription", Reason: "protocol lambda: the SNS stand-in delivers only to SQS queues"},
	}
	if !reflect.DeepEqual(res.Skipped, wantSkipped) {
		t.Errorf("Skipped: got %+v, want %+v", res.Skipped, wantSkipped)
	}

	// A changed filter on a second run updates the existing subscription instead of failing.
	changed := strings.Replace(snsTemplate, "order_placed", "order_cancelled", 1)
	tmpl2, b2 := parse(t, changed)
	if _, err := Provision(context.Background(), f.clients(), tmpl2, b2, Options{}); err != nil {
		t.Fatalf("second provision: %v", err)
	}
	if len(f.sns.subscriptions) != 2 {
		t.Errorf("second run: got %d subscriptions, want still 2", len(f.sns.subscriptions))
	}
	if got := f.sns.subscriptions[1].attrs["FilterPolicy"]; !strings.Contains(got, "order_cancelled") {
		t.Errorf("second run: FilterPolicy %s, want the changed one", got)
	}
}

func TestProvisionBuckets(t *testing.T) {
	f := newFakes()
	tmpl, b := parse(t, `
Resources:
  UploadsBucket: {Type: AWS::S3::Bucket}
  ReportsBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "${AWS::StackName}-reports-${AWS::AccountId}"}
`)
	for range 2 {
		res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
		if err != nil {
			t.Fatalf("provision: %v", err)
		}
		want := Bucket{LogicalID: "UploadsBucket", Name: "app-uploadsbucket", ARN: "arn:aws:s3:::app-uploadsbucket"}
		if got := res.Buckets["UploadsBucket"]; got != want {
			t.Errorf("Buckets[UploadsBucket]: got %+v, want %+v", got, want)
		}
		if got := res.Buckets["ReportsBucket"].Name; got != "app-reports-000000000000" {
			t.Errorf("ReportsBucket: got %q, want app-reports-000000000000", got)
		}
	}
	if len(f.s3.buckets) != 2 || len(f.s3.creates) != 4 {
		t.Errorf("got buckets %v after %d creates, want 2 buckets after 4 creates", f.s3.buckets, len(f.s3.creates))
	}
	if f.s3.creates[0].CreateBucketConfiguration != nil {
		t.Errorf("CreateBucket sent a location constraint: %+v", f.s3.creates[0].CreateBucketConfiguration)
	}
	if got := resolve(t, b, att("UploadsBucket", "Arn")); got != "arn:aws:s3:::app-uploadsbucket" {
		t.Errorf("GetAtt Arn: got %q", got)
	}
	if got := resolve(t, b, ref("UploadsBucket")); got != "app-uploadsbucket" {
		t.Errorf("Ref: got %q", got)
	}
}

const virtualTemplate = `
Resources:
  SubmitJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: services/jobs
      Events:
        Submit: {Type: HttpApi, Properties: {Path: /jobs, Method: POST}}
  GetJobFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-get-job"
  JobsApi: {Type: AWS::Serverless::HttpApi}
  UserPool: {Type: AWS::Cognito::UserPool}
  UserPoolClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref UserPool}
`

func TestProvisionRunnerServedResources(t *testing.T) {
	tests := []struct {
		name   string
		preset func(b *template.Bindings)
		want   map[string]string // "<Ref or attribute> <logical ID>" → value
	}{
		{
			name: "defaults",
			want: map[string]string{
				"Ref SubmitJobFunction":   "app-SubmitJobFunction",
				"Arn SubmitJobFunction":   "arn:aws:lambda:us-east-1:000000000000:function:app-SubmitJobFunction",
				"Ref GetJobFunction":      "app-get-job",
				"Ref JobsApi":             "local",
				"Ref ServerlessHttpApi":   "local",
				"Ref UserPool":            "local-user-pool",
				"Arn UserPool":            "arn:aws:cognito-idp:us-east-1:000000000000:userpool/local-user-pool",
				"ProviderURL UserPool":    "https://cognito-idp.us-east-1.amazonaws.com/local-user-pool",
				"Ref UserPoolClient":      "local-client",
				"ClientId UserPoolClient": "local-client",
			},
		},
		{
			name: "values the runner set are kept",
			preset: func(b *template.Bindings) {
				b.SetRef("JobsApi", "abc123")
				b.SetRef("UserPool", "us-east-1_local")
				b.SetAtt("UserPool", "ProviderURL", "http://127.0.0.1:9000")
			},
			want: map[string]string{
				"Ref JobsApi":          "abc123",
				"Ref UserPool":         "us-east-1_local",
				"Arn UserPool":         "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local",
				"ProviderURL UserPool": "http://127.0.0.1:9000",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, b := parse(t, virtualTemplate)
			if tt.preset != nil {
				tt.preset(b)
			}
			res, err := Provision(context.Background(), Clients{}, tmpl, b, Options{})
			if err != nil {
				t.Fatalf("provision: %v", err)
			}
			for expr, want := range tt.want {
				what, id, _ := strings.Cut(expr, " ")
				v := ref(id)
				if what != "Ref" {
					v = att(id, what)
				}
				if got := resolve(t, b, v); got != want {
					t.Errorf("%s: got %q, want %q", expr, got, want)
				}
			}
			wantNames := map[string]string{"SubmitJobFunction": "app-SubmitJobFunction", "GetJobFunction": "app-get-job"}
			if !reflect.DeepEqual(res.FunctionNames, wantNames) {
				t.Errorf("FunctionNames: got %v, want %v", res.FunctionNames, wantNames)
			}
			if len(res.Skipped) != 0 {
				t.Errorf("Skipped: got %+v, want none", res.Skipped)
			}
		})
	}
}

func TestProvisionSkipped(t *testing.T) {
	tmpl, b := parse(t, `
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Rule: {Type: AWS::Events::Rule}
  Alarm: {Type: AWS::CloudWatch::Alarm}
  ProdQueue:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Queue: {Type: AWS::SQS::Queue}
`)
	f := newFakes()
	res, err := Provision(context.Background(), f.clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	want := []Skipped{
		{LogicalID: "Alarm", Type: "AWS::CloudWatch::Alarm", Reason: "no local stand-in for this type"},
		{LogicalID: "ProdQueue", Type: "AWS::SQS::Queue", Reason: "condition IsProd is false"},
		{LogicalID: "Rule", Type: "AWS::Events::Rule", Reason: "no local stand-in for this type"},
	}
	if !reflect.DeepEqual(res.Skipped, want) {
		t.Errorf("Skipped: got %+v, want %+v", res.Skipped, want)
	}
	if !reflect.DeepEqual(f.sqs.created, []string{"app-Queue"}) {
		t.Errorf("created queues: got %v, want only app-Queue", f.sqs.created)
	}
	_, err = b.Resolve(att("Rule", "Arn"))
	if err == nil || !strings.Contains(err.Error(), "Rule (AWS::Events::Rule) has no local value") {
		t.Errorf("GetAtt of a skipped resource: got %v, want an error naming Rule and its type", err)
	}
}

func TestProvisionErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		clients Clients
		opts    Options
		want    string
	}{
		{
			name: "property refers to a skipped resource",
			src:  "Resources:\n  Rule: {Type: AWS::Events::Rule}\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Ref Rule}\n",
			want: "provision Q (AWS::SQS::Queue): resolve QueueName: Ref Rule: resource Rule (AWS::Events::Rule) has no local value",
		},
		{
			name: "cycle",
			src:  "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !GetAtt B.QueueName}\n  B:\n    Type: AWS::SQS::Queue\n    DependsOn: A\n",
			want: "cycle: A, B",
		},
		{
			name:    "missing client",
			src:     "Resources:\n  Q: {Type: AWS::SQS::Queue}\n",
			clients: Clients{DynamoDB: newFakeDynamoDB()},
			want:    "no SQS client",
		},
		{
			name: "negative maximum visibility",
			src:  "Resources:\n  Q: {Type: AWS::SQS::Queue}\n",
			opts: Options{MaxVisibilityTimeout: -time.Second},
			want: "negative MaxVisibilityTimeout",
		},
		{
			name: "bad property type",
			src:  "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: soon}\n",
			want: `"soon" is not an integer`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, b := parse(t, tt.src)
			c := tt.clients
			if c == (Clients{}) {
				c = newFakes().clients()
			}
			_, err := Provision(context.Background(), c, tmpl, b, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Roles, log groups and KMS keys have no stand-in, but IAM policies name them, and the local IAM
// enforcement resolves those policies: they must resolve to the ARNs CloudFormation would give.
func TestProvisionBindsIdentityResources(t *testing.T) {
	tmpl, b := parse(t, `
Resources:
  WorkRole: {Type: AWS::IAM::Role}
  NamedRole:
    Type: AWS::IAM::Role
    Properties: {RoleName: named, Path: /service/}
  WorkLogGroup:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${AWS::StackName}/Work"}
  Key: {Type: AWS::KMS::Key}
`)
	res, err := Provision(context.Background(), newFakes().clients(), tmpl, b, Options{})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	tests := []struct {
		v    template.Value
		want string
	}{
		{ref("WorkRole"), "app-WorkRole"},
		{att("WorkRole", "Arn"), "arn:aws:iam::000000000000:role/app-WorkRole"},
		{att("NamedRole", "Arn"), "arn:aws:iam::000000000000:role/service/named"},
		{ref("WorkLogGroup"), "/aws/lambda/app/Work"},
		{att("WorkLogGroup", "Arn"), "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/app/Work:*"},
		{att("Key", "Arn"), "arn:aws:kms:us-east-1:000000000000:key/local-Key"},
	}
	for _, tt := range tests {
		if got := resolve(t, b, tt.v); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.v, got, tt.want)
		}
	}
	if res.RoleNames["NamedRole"] != "named" || res.RoleNames["WorkRole"] != "app-WorkRole" {
		t.Errorf("RoleNames: got %v", res.RoleNames)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("Skipped: got %+v, want none", res.Skipped)
	}
}
