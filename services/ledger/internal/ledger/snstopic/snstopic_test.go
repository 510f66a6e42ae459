package snstopic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/correlation"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type fakeSNS struct{ inputs []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	return &sns.PublishOutput{MessageId: aws.String("m1")}, nil
}

func TestPublisherCarriesTheCorrelationID(t *testing.T) {
	f := &fakeSNS{}
	p := Publisher{SNS: f, TopicARN: "arn:topic"}
	ctx := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-9"})
	e := ledger.Event{AccountID: "a1", Owner: "alice", Version: 2, Type: ledger.Deposited, Amount: 5, At: t0, CorrelationID: "c-9"}
	if err := p.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	in := f.inputs[0]
	if aws.ToString(in.TopicArn) != "arn:topic" {
		t.Errorf("topic = %s, want arn:topic", aws.ToString(in.TopicArn))
	}
	attrs := in.MessageAttributes
	if got := aws.ToString(attrs[correlation.AttributeCorrelationID].StringValue); got != "c-9" {
		t.Errorf("correlation attribute = %q, want c-9", got)
	}
	if got := aws.ToString(attrs[AttributeEventType].StringValue); got != string(ledger.Deposited) {
		t.Errorf("event-type attribute = %q, want %s", got, ledger.Deposited)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"accountId": "a1", "version": float64(2), "type": "MoneyDeposited", "amount": float64(5), "at": "2026-11-30T12:00:00Z"}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("message = %v, want %v (no owner, no internal fields)", body, want)
	}
}

// TestRetryKMSThrottlingRetriesIt answers Publish as SNS answers one to a topic whose KMS key is
// throttled (400, code KMSThrottling, awsQuery XML) twice, then accepts it: with
// RetryKMSThrottling the third attempt publishes; without it the SDK gives up on the first, which
// is why the option exists. SNS's throttling of Publish itself (Throttling) the SDK retries alone.
func TestRetryKMSThrottlingRetriesIt(t *testing.T) {
	kmsThrottled := `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>KMSThrottling</Code><Message>The request was denied due to request throttling.</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`
	throttled := `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`
	for _, tt := range []struct {
		name         string
		answer       string
		opts         []func(*sns.Options)
		wantErr      bool
		wantAttempts int32
	}{
		{name: "KMSThrottling, with RetryKMSThrottling", answer: kmsThrottled, opts: []func(*sns.Options){RetryKMSThrottling}, wantAttempts: 3},
		{name: "KMSThrottling, the SDK alone", answer: kmsThrottled, wantErr: true, wantAttempts: 1},
		{name: "Throttling, the SDK alone", answer: throttled, wantAttempts: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits the retryer's real back-off
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				if attempts.Add(1) <= 2 {
					w.WriteHeader(http.StatusBadRequest)
					io.WriteString(w, tt.answer)
					return
				}
				io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></PublishResponse>`)
			}))
			defer srv.Close()
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
			_, err := sns.NewFromConfig(cfg, tt.opts...).Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), Message: aws.String("{}")})
			var kms *types.KMSThrottlingException
			if tt.wantErr && !errors.As(err, &kms) {
				t.Errorf("Publish error %v; want SNS's KMSThrottlingException", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Publish: %v; want it published on the third attempt", err)
			}
			if got := attempts.Load(); got != tt.wantAttempts {
				t.Errorf("%d attempts; want %d", got, tt.wantAttempts)
			}
		})
	}
}

// TestRetryKMSThrottlingCountsItAsAThrottle: a throttle gets the standard retryer's longer
// back-off and lower retry cost, which a merely retryable code would not.
func TestRetryKMSThrottlingCountsItAsAThrottle(t *testing.T) {
	var o retry.StandardOptions
	o.Retryables, o.Throttles = retry.DefaultRetryables, retry.DefaultThrottles
	withKMSThrottling(&o)
	err := &types.KMSThrottlingException{Message: aws.String("throttled")}
	if got := retry.IsErrorThrottles(o.Throttles).IsErrorThrottle(err); got != aws.TrueTernary {
		t.Errorf("KMSThrottling counted as a throttle: %v; want true", got)
	}
	if got := retry.IsErrorRetryables(o.Retryables).IsErrorRetryable(err); got != aws.TrueTernary {
		t.Errorf("KMSThrottling retryable: %v; want true", got)
	}
	if got := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err); got == aws.TrueTernary {
		t.Error("the SDK's default throttle codes include KMSThrottling now: RetryKMSThrottling may go")
	}
}
