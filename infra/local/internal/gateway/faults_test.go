package gateway

import (
	"context"
	"errors"
	"log/slog"

	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/infra/local/internal/faults"
)

// faultyStand is a gateway for service, with faults, in front of a recording stand-in that
// answers every request as a success; its one function may do anything.
func faultyStand(t *testing.T, service string, rules ...faults.Rule) (endpoint string, upstream *recorderLog, in *faults.Injector, logs *syncBuffer) {
	t.Helper()
	up, upstream := serve(t, answerOK(service))
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	for i := range rules {
		if rules[i].Delay == 0 {
			rules[i].Delay = 1 // a nanosecond: the latency test asserts what happened, not how long
		}
	}
	in = faults.New(faults.Config{Seed: 7, Faults: rules}, nil, log, nil)
	gw, err := New(Config{
		Service: service, Upstream: u, Region: testRegion, Account: testAccount,
		Callers: func(key string) (Caller, bool) {
			if key != functionKey {
				return Caller{}, false
			}
			return Caller{Name: functionName, ARN: functionARN, Authorize: func(Access) (bool, bool) { return true, false }}, true
		},
		Trusted: func(key string) bool { return key == trustedKey },
		Log:     log,
		Faults:  in,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv.URL, upstream, in, logs
}

// calls are one write per service, as a function makes it.
var calls = map[string]func(ctx context.Context, c clients) error{
	"dynamodb": func(ctx context.Context, c clients) error {
		_, err := c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Jobs"), Item: key("1")})
		return err
	},
	"sqs": func(ctx context.Context, c clients) error {
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("m")})
		return err
	},
	"sns": func(ctx context.Context, c clients) error {
		_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:t"), Message: aws.String("m")})
		return err
	},
	"s3": func(ctx context.Context, c clients) error {
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("k"), Body: strings.NewReader("x")})
		return err
	},
}

func TestGatewayInjectsServiceErrorsAsTheServiceSendsThem(t *testing.T) {
	tests := []struct {
		service    string
		kind       faults.Kind
		wantStatus int
		wantCode   string
		// throttle: the SDK's standard retryer counts it as a throttle; otherwise as retryable.
		throttle bool
	}{
		{"dynamodb", faults.ThroughputExceeded, 400, "ProvisionedThroughputExceededException", true},
		{"dynamodb", faults.Throttling, 400, "ThrottlingException", true},
		{"dynamodb", faults.TransactionConflict, 400, "TransactionConflictException", false},
		{"dynamodb", faults.InternalError, 500, "InternalServerError", false},
		{"sqs", faults.Throttling, 400, "RequestThrottled", true},
		{"sqs", faults.InternalError, 500, "InternalError", false},
		{"sns", faults.Throttling, 400, "Throttling", true},
		{"sns", faults.InternalError, 500, "InternalError", false},
		{"s3", faults.Throttling, 503, "SlowDown", true},
		{"s3", faults.InternalError, 500, "InternalError", false},
	}
	for _, tt := range tests {
		t.Run(tt.service+" "+string(tt.kind), func(t *testing.T) {
			url, upstream, in, logs := faultyStand(t, tt.service, faults.Rule{Kind: tt.kind, Probability: 1})
			err := calls[tt.service](context.Background(), newClients(url, functionKey, functionSecret))
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v; want %s", err, tt.wantCode)
			}
			var resp interface{ HTTPStatusCode() int }
			if !errors.As(err, &resp) || resp.HTTPStatusCode() != tt.wantStatus {
				t.Errorf("status of %v; want %d", err, tt.wantStatus)
			}
			if tt.throttle {
				if got := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err); got != aws.TrueTernary {
					t.Errorf("standard retryer sees %v as throttle: %v; want true", err, got)
				}
			} else if tt.kind != faults.TransactionConflict {
				if got := retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err); got != aws.TrueTernary {
					t.Errorf("standard retryer sees %v as retryable: %v; want true", err, got)
				}
			}
			if n := len(upstream.all()); n != 0 {
				t.Errorf("stand-in received %d requests; want 0 (the fault answers instead)", n)
			}
			if got := in.Counts()[tt.kind]; got != 1 {
				t.Errorf("counted %d %s faults; want 1", got, tt.kind)
			}
			if !strings.Contains(logs.String(), `msg="fault injected" seed=7 kind=`+string(tt.kind)+" function="+functionName) {
				t.Errorf("log lacks the fault line:\n%s", logs.String())
			}
		})
	}
}

func TestGatewayResetAfterApplyLosesTheAnswerNotTheWrite(t *testing.T) {
	url, upstream, in, _ := faultyStand(t, "dynamodb", faults.Rule{Kind: faults.ResetAfterApply, Probability: 1})
	err := calls["dynamodb"](context.Background(), newClients(url, functionKey, functionSecret))
	if err == nil {
		t.Fatal("PutItem succeeded; want a connection error")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		t.Fatalf("error = %v; want a connection error, not a service error", err)
	}
	if got := retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err); got != aws.TrueTernary {
		t.Errorf("standard retryer sees %v as retryable: %v; want true (so the write is sent again)", err, got)
	}
	if n := len(upstream.all()); n != 1 {
		t.Errorf("stand-in received %d requests; want 1 (applied, answer lost)", n)
	}
	if got := in.Counts()[faults.ResetAfterApply]; got != 1 {
		t.Errorf("counted %d resets; want 1", got)
	}
}

func TestGatewayLatencyStillForwards(t *testing.T) {
	url, upstream, in, _ := faultyStand(t, "sqs", faults.Rule{Kind: faults.Latency, Probability: 1})
	if err := calls["sqs"](context.Background(), newClients(url, functionKey, functionSecret)); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if n := len(upstream.all()); n != 1 {
		t.Errorf("stand-in received %d requests; want 1", n)
	}
	if got := in.Counts()[faults.Latency]; got != 1 {
		t.Errorf("counted %d latency faults; want 1", got)
	}
}

func TestGatewayFaultsKeepToTheirScope(t *testing.T) {
	tests := []struct {
		name string
		rule faults.Rule
		key  string
		// read makes the call a GetItem instead of the PutItem.
		read string
	}{
		{"another function", faults.Rule{Kind: faults.InternalError, Probability: 1, Function: "OtherFunction"}, functionKey, ""},
		{"another operation", faults.Rule{Kind: faults.InternalError, Probability: 1, Operation: "dynamodb:GetItem"}, functionKey, ""},
		{"another service", faults.Rule{Kind: faults.InternalError, Probability: 1, Operation: "sqs"}, functionKey, ""},
		{"another resource", faults.Rule{Kind: faults.InternalError, Probability: 1, Resource: "table/Ledger"}, functionKey, ""},
		{"a kind DynamoDB cannot answer", faults.Rule{Kind: faults.SQSDuplicate, Probability: 1}, functionKey, ""},
		{"a transaction conflict on a read", faults.Rule{Kind: faults.TransactionConflict, Probability: 1}, functionKey, "dynamodb:GetItem"},
		{"the runner's trusted key", faults.Rule{Kind: faults.InternalError, Probability: 1}, trustedKey, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, upstream, in, _ := faultyStand(t, "dynamodb", tt.rule)
			call := calls["dynamodb"]
			if tt.read != "" {
				call = func(ctx context.Context, c clients) error {
					_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
					return err
				}
			}
			if err := call(context.Background(), newClients(url, tt.key, functionSecret)); err != nil {
				t.Fatalf("call: %v; want no fault", err)
			}
			if n := len(upstream.all()); n != 1 {
				t.Errorf("stand-in received %d requests; want 1", n)
			}
			if got := in.Counts(); len(got) != 0 {
				t.Errorf("counted %v; want no fault", got)
			}
		})
	}
	t.Run("in scope", func(t *testing.T) {
		url, _, in, _ := faultyStand(t, "dynamodb", faults.Rule{Kind: faults.InternalError, Probability: 1,
			Function: functionName, Operation: "dynamodb:PutItem", Resource: "table/Jobs"})
		if err := calls["dynamodb"](context.Background(), newClients(url, functionKey, functionSecret)); err == nil {
			t.Fatal("PutItem succeeded; want the injected 500")
		}
		if got := in.Counts()[faults.InternalError]; got != 1 {
			t.Errorf("counted %d; want 1", got)
		}
	})
}

// TestGatewayCancelsATransactionThatMeetsAConflict: a transaction is not answered
// TransactionConflictException, a single write's answer, but TransactionCanceledException with a
// reason per item, as DynamoDB answers it and as the services' cancellation handling reads it.
func TestGatewayCancelsATransactionThatMeetsAConflict(t *testing.T) {
	url, upstream, _, _ := faultyStand(t, "dynamodb", faults.Rule{Kind: faults.TransactionConflict, Probability: 1})
	c := newClients(url, functionKey, functionSecret)
	_, err := c.dynamodb.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("Jobs"), Item: key("1")}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("Jobs"), Key: key("2"), ConditionExpression: aws.String("attribute_exists(id)")}},
		},
	})
	canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok {
		t.Fatalf("error = %v; want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range canceled.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "TransactionConflict,None" {
		t.Errorf("cancellation reasons %v; want TransactionConflict, None", codes)
	}
	if n := len(upstream.all()); n != 0 {
		t.Errorf("stand-in received %d requests; want 0", n)
	}
}
