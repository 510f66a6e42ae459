package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// uploadsKey is the KMS key of the "uploads" bucket's default encryption; "imports" has none.
const uploadsKey = "arn:aws:kms:us-east-1:000000000000:key/0b5f1e2a"

// stand is a gateway for one service between an SDK client and a recording stand-in.
type stand struct {
	gateway *Gateway
	// url is the gateway's endpoint.
	url string
	// front holds the requests as the gateway received them; upstream as the stand-in did.
	front, upstream *recorderLog
	policy          *policy
	logs            *syncBuffer
}

// newStand starts a stand-in answering with answer and a gateway in front of it whose one
// function is authorized by p.
func newStand(t *testing.T, service string, p *policy, answer http.HandlerFunc) *stand {
	t.Helper()
	up, upstream := serve(t, answer)
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	gw, err := New(Config{
		Service: service, Upstream: u, Region: testRegion, Account: testAccount,
		Callers: func(key string) (Caller, bool) {
			if key != functionKey {
				return Caller{}, false
			}
			return Caller{Name: functionName, ARN: functionARN, Authorize: p.authorize}, true
		},
		Trusted:  func(key string) bool { return key == trustedKey },
		QueueARN: testQueueARN,
		BucketKMSKey: func(bucket string) string {
			if bucket == "uploads" {
				return uploadsKey
			}
			return ""
		},
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	front := &recorderLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		front.record(r)
		gw.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &stand{gateway: gw, url: srv.URL, front: front, upstream: upstream, policy: p, logs: logs}
}

// clients returns SDK clients that call the gateway with the function's key.
func (s *stand) clients() clients { return newClients(s.url, functionKey, functionSecret) }

// answerOK answers as the stand-in for service does to a successful call.
func answerOK(service string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch service {
		case "dynamodb":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte("{}"))), 10))
			_, _ = io.WriteString(w, "{}")
		case "sqs":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = io.WriteString(w, "{}")
		case "sns":
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m1</MessageId></PublishResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></PublishResponse>`)
		case "s3":
			w.Header().Set("ETag", `"etag"`)
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, "object body")
			}
		case "lambda":
			w.Header().Set("X-Amz-Executed-Version", "$LATEST")
			_, _ = io.WriteString(w, "{}")
		}
	}
}

// deniedLogLine is the log line a denial writes, as slog's text handler renders it.
func deniedLogLine(action, resource, service string) string {
	return fmt.Sprintf("level=WARN msg=\"IAM denied\" function=%s action=%s resource=%s service=%s", functionName, action, resource, service)
}

func TestGatewayForwardsAllowedRequestsUnchanged(t *testing.T) {
	tests := []struct {
		name    string
		service string
		allow   []string
		call    func(ctx context.Context, c clients) error
	}{
		{"DynamoDB PutItem", "dynamodb", []string{"dynamodb:PutItem " + jobsTable}, func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Jobs"), Item: key("1")})
			return err
		}},
		{"DynamoDB TransactWriteItems", "dynamodb", []string{"dynamodb:PutItem " + jobsTable, "dynamodb:DeleteItem " + usersTable}, func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: aws.String("Jobs"), Item: key("1")}},
				{Delete: &ddbtypes.Delete{TableName: aws.String("Users"), Key: key("1")}},
			}})
			return err
		}},
		{"SQS SendMessageBatch", "sqs", []string{"sqs:SendMessage " + queueARN}, func(ctx context.Context, c clients) error {
			_, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL),
				Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("m")}}})
			return err
		}},
		{"SNS Publish", "sns", []string{"sns:Publish " + eventsTopic}, func(ctx context.Context, c clients) error {
			_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(eventsTopic), Message: aws.String("m & more")})
			return err
		}},
		{"S3 PutObject with an awkward key", "s3", []string{"s3:PutObject arn:aws:s3:::imports/" + objectKey}, func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String(objectKey), Body: strings.NewReader("a,b\n1,2\n"), ContentType: aws.String("text/csv")})
			return err
		}},
		{"S3 GetObject from an SSE-KMS bucket", "s3", []string{"s3:GetObject " + bucket + "/k", "kms:Decrypt " + uploadsKey}, func(ctx context.Context, c clients) error {
			out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k")})
			if err != nil {
				return err
			}
			return out.Body.Close()
		}},
		{"S3 DeleteObjects", "s3", []string{"s3:DeleteObject arn:aws:s3:::imports/*"}, func(ctx context.Context, c clients) error {
			_, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("imports"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}}}})
			return err
		}},
		{"S3 pre-signed GET", "s3", []string{"s3:GetObject arn:aws:s3:::imports/k"}, func(ctx context.Context, c clients) error {
			return sendPresigned(ctx, c, func(p *s3.PresignClient) (string, string, http.Header, error) {
				req, err := p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("k")})
				if err != nil {
					return "", "", nil, err
				}
				return req.Method, req.URL, req.SignedHeader, nil
			})
		}},
		{"Lambda Invoke", "lambda", []string{"lambda:InvokeFunction arn:aws:lambda:us-east-1:000000000000:function:app-ProcessImport"}, func(ctx context.Context, c clients) error {
			_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("app-ProcessImport"), InvocationType: "Event", Payload: []byte(`{"id":"1"}`)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStand(t, tt.service, &policy{allow: tt.allow}, answerOK(tt.service))
			if err := tt.call(context.Background(), s.clients()); err != nil {
				t.Fatalf("allowed call failed: %v\nlogs:\n%s", err, s.logs)
			}
			front, upstream := s.front.all(), s.upstream.all()
			if len(front) != 1 || len(upstream) != 1 {
				t.Fatalf("gateway received %d requests and forwarded %d, want 1 and 1", len(front), len(upstream))
			}
			sameRequest(t, front[0], upstream[0])
			if got := s.gateway.Denials(); got != 0 {
				t.Errorf("Denials() = %d, want 0", got)
			}
		})
	}
}

// sameRequest fails the test unless the stand-in received exactly what the gateway did.
func sameRequest(t *testing.T, got, want recorded) {
	t.Helper()
	if got.method != want.method || got.requestURI != want.requestURI || got.host != want.host {
		t.Errorf("forwarded %s %s (Host %s), want %s %s (Host %s)", want.method, want.requestURI, want.host, got.method, got.requestURI, got.host)
	}
	if !bytes.Equal(got.body, want.body) {
		t.Errorf("forwarded body of %d bytes, want the %d bytes received", len(want.body), len(got.body))
	}
	if !reflect.DeepEqual(got.header, want.header) {
		t.Errorf("forwarded headers differ:\n got %v\nwant %v", want.header, got.header)
	}
	if got.header.Get("Authorization") == "" && !strings.Contains(got.requestURI, "X-Amz-Signature") {
		t.Errorf("request carries no signature: the test does not test forwarding of one")
	}
}

func TestGatewayKeepsSignaturesValid(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 24<<20/16)
	tests := []struct {
		name    string
		service string
		allow   []string
		call    func(ctx context.Context, c clients) error
	}{
		{"DynamoDB", "dynamodb", []string{"dynamodb:GetItem " + jobsTable}, func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
			return err
		}},
		{"S3 24 MiB upload", "s3", []string{"s3:PutObject arn:aws:s3:::imports/big.bin"}, func(ctx context.Context, c clients) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("big.bin"), Body: bytes.NewReader(big)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStand(t, tt.service, &policy{allow: tt.allow}, answerOK(tt.service))
			if err := tt.call(context.Background(), s.clients()); err != nil {
				t.Fatalf("allowed call failed: %v", err)
			}
			upstream := s.upstream.all()
			if len(upstream) != 1 {
				t.Fatalf("stand-in received %d requests, want 1", len(upstream))
			}
			verifySignature(t, upstream[0], functionSecret)
		})
	}
}

// verifySignature recomputes the SigV4 signature of a received request, as versitygw does, and
// fails the test unless it matches the one the request carries.
func verifySignature(t *testing.T, r recorded, secret string) {
	t.Helper()
	var credential, signedHeaders, signature string
	_, params, _ := strings.Cut(r.header.Get("Authorization"), " ")
	for _, field := range strings.Split(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			signature = value
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 {
		t.Fatalf("Authorization %q has no credential scope", r.header.Get("Authorization"))
	}
	signingTime, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	req, err := http.NewRequest(r.method, "http://"+r.host+r.requestURI, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = http.Header{}
	for _, name := range strings.Split(signedHeaders, ";") {
		if name != "host" && name != "content-length" {
			req.Header[http.CanonicalHeaderKey(name)] = r.header.Values(name)
		}
	}
	payloadHash := r.header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(r.body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	service, region := scope[3], scope[2]
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, service, region, signingTime); err != nil {
		t.Fatal(err)
	}
	_, recomputed, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	if recomputed != signature {
		t.Errorf("signature of the forwarded request: recomputed %s, carried %s (signed headers %s)", recomputed, signature, signedHeaders)
	}
}

func TestGatewayDeniesAsTheServiceDoes(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:000000000000:function:app-ProcessImport"
	tests := []struct {
		name       string
		service    string
		allow      []string
		deny       []string
		call       func(ctx context.Context, c clients) error
		wantStatus int
		wantCode   string
		// wantMessage is the error's message; "" for none (a HEAD has no body).
		wantMessage string
		// typed checks the SDK's typed error, where the service models one.
		typed   func(error) bool
		wantLog string
	}{
		{
			name: "DynamoDB GetItem", service: "dynamodb",
			call: func(ctx context.Context, c clients) error {
				_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
				return err
			},
			wantStatus: 400, wantCode: "AccessDeniedException",
			wantMessage: "User: " + functionARN + " is not authorized to perform: dynamodb:GetItem on resource: " + jobsTable + " because no identity-based policy allows the dynamodb:GetItem action",
			wantLog:     deniedLogLine("dynamodb:GetItem", jobsTable, "dynamodb"),
		},
		{
			name: "DynamoDB explicit deny", service: "dynamodb",
			allow: []string{"dynamodb:GetItem " + jobsTable}, deny: []string{"dynamodb:GetItem " + jobsTable},
			call: func(ctx context.Context, c clients) error {
				_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
				return err
			},
			wantStatus: 400, wantCode: "AccessDeniedException",
			wantMessage: "User: " + functionARN + " is not authorized to perform: dynamodb:GetItem on resource: " + jobsTable + " with an explicit deny in an identity-based policy",
			wantLog:     deniedLogLine("dynamodb:GetItem", jobsTable, "dynamodb") + " explicit_deny=true",
		},
		{
			name: "DynamoDB transaction with one item not allowed", service: "dynamodb",
			allow: []string{"dynamodb:PutItem " + jobsTable},
			call: func(ctx context.Context, c clients) error {
				_, err := c.dynamodb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
					{Put: &ddbtypes.Put{TableName: aws.String("Jobs"), Item: key("1")}},
					{Update: &ddbtypes.Update{TableName: aws.String("Users"), Key: key("1"), UpdateExpression: aws.String("SET n = :n"),
						ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":n": &ddbtypes.AttributeValueMemberN{Value: "1"}}}},
				}})
				return err
			},
			wantStatus: 400, wantCode: "AccessDeniedException",
			wantMessage: "User: " + functionARN + " is not authorized to perform: dynamodb:UpdateItem on resource: " + usersTable + " because no identity-based policy allows the dynamodb:UpdateItem action",
			wantLog:     deniedLogLine("dynamodb:UpdateItem", usersTable, "dynamodb"),
		},
		{
			name: "SQS SendMessageBatch", service: "sqs",
			call: func(ctx context.Context, c clients) error {
				_, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL),
					Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("m")}}})
				return err
			},
			wantStatus: 403, wantCode: "AccessDenied",
			wantMessage: "User: " + functionARN + " is not authorized to perform: sqs:sendmessage on resource: " + queueARN + " because no identity-based policy allows the sqs:sendmessage action",
			wantLog:     deniedLogLine("sqs:SendMessage", queueARN, "sqs"),
		},
		{
			name: "SNS Publish", service: "sns",
			call: func(ctx context.Context, c clients) error {
				_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(eventsTopic), Message: aws.String("m")})
				return err
			},
			wantStatus: 403, wantCode: "AuthorizationError",
			wantMessage: "User: " + functionARN + " is not authorized to perform: SNS:Publish on resource: " + eventsTopic + " because no identity-based policy allows the SNS:Publish action",
			typed: func(err error) bool {
				var e *snstypes.AuthorizationErrorException
				return errors.As(err, &e)
			},
			wantLog: deniedLogLine("sns:Publish", eventsTopic, "sns"),
		},
		{
			name: "S3 GetObject", service: "s3",
			call: func(ctx context.Context, c clients) error {
				_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("a/b.csv")})
				return err
			},
			wantStatus: 403, wantCode: "AccessDenied",
			wantMessage: "User: " + functionARN + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::imports/a/b.csv" because no identity-based policy allows the s3:GetObject action`,
			wantLog:     deniedLogLine("s3:GetObject", "arn:aws:s3:::imports/a/b.csv", "s3"),
		},
		{
			// S3 answers a HEAD with no body, so the SDK can only report the status.
			name: "S3 HeadObject", service: "s3",
			call: func(ctx context.Context, c clients) error {
				_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("imports"), Key: aws.String("a/b.csv")})
				return err
			},
			wantStatus: 403, wantCode: "Forbidden", wantMessage: "Forbidden",
			wantLog: deniedLogLine("s3:GetObject", "arn:aws:s3:::imports/a/b.csv", "s3"),
		},
		{
			name: "S3 PutObject to an SSE-KMS bucket without kms:GenerateDataKey", service: "s3",
			allow: []string{"s3:PutObject " + bucket + "/*"},
			call: func(ctx context.Context, c clients) error {
				_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), Body: strings.NewReader("x")})
				return err
			},
			wantStatus: 403, wantCode: "AccessDenied",
			wantMessage: "User: " + functionARN + " is not authorized to perform: kms:GenerateDataKey on resource: " + uploadsKey + " because no identity-based policy allows the kms:GenerateDataKey action",
			wantLog:     deniedLogLine("kms:GenerateDataKey", uploadsKey, "s3"),
		},
		{
			name: "Lambda Invoke", service: "lambda",
			call: func(ctx context.Context, c clients) error {
				_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("app-ProcessImport"), Payload: []byte(`{}`)})
				return err
			},
			wantStatus: 403, wantCode: "AccessDeniedException",
			wantMessage: "User: " + functionARN + " is not authorized to perform: lambda:InvokeFunction on resource: " + fn + " because no identity-based policy allows the lambda:InvokeFunction action",
			wantLog:     deniedLogLine("lambda:InvokeFunction", fn, "lambda"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStand(t, tt.service, &policy{allow: tt.allow, deny: tt.deny}, answerOK(tt.service))
			err := tt.call(context.Background(), s.clients())
			checkAPIError(t, err, tt.wantStatus, tt.wantCode, tt.wantMessage)
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("error %T is not the SDK's typed error", err)
			}
			if got := s.upstream.all(); len(got) != 0 {
				t.Errorf("stand-in received %d requests, want none", len(got))
			}
			if got := s.gateway.Denials(); got != 1 {
				t.Errorf("Denials() = %d, want 1", got)
			}
			logs := s.logs.String()
			if strings.Count(logs, "IAM denied") != 1 || !strings.Contains(logs, tt.wantLog) {
				t.Errorf("logs:\n%s\nwant one line containing\n%s", logs, tt.wantLog)
			}
		})
	}
}

// checkAPIError fails the test unless err is the API error an SDK decodes from status, code and
// message.
func checkAPIError(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is no API error", err, err)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != message {
		t.Errorf("API error:\n got code %q message %q\nwant code %q message %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, message)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != status {
		t.Errorf("error %v: want HTTP status %d", err, status)
	}
}

// callEach is one SDK call per service.
var callEach = map[string]func(ctx context.Context, c clients) error{
	"dynamodb": func(ctx context.Context, c clients) error {
		_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Jobs"), Key: key("1")})
		return err
	},
	"sqs": func(ctx context.Context, c clients) error {
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("m")})
		return err
	},
	"sns": func(ctx context.Context, c clients) error {
		_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(eventsTopic), Message: aws.String("m")})
		return err
	},
	"s3": func(ctx context.Context, c clients) error {
		_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("k")})
		return err
	},
	"lambda": func(ctx context.Context, c clients) error {
		_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`{}`)})
		return err
	},
}

func TestGatewayRefusesUnknownKeys(t *testing.T) {
	tests := []struct {
		service     string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"dynamodb", 400, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"sqs", 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"sns", 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"s3", 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."},
		{"lambda", 403, "UnrecognizedClientException", "The security token included in the request is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := newStand(t, tt.service, &policy{}, answerOK(tt.service))
			err := callEach[tt.service](context.Background(), newClients(s.url, "ASIAUNKNOWN", "secret"))
			checkAPIError(t, err, tt.wantStatus, tt.wantCode, tt.wantMessage)
			if got := s.upstream.all(); len(got) != 0 {
				t.Errorf("stand-in received %d requests, want none", len(got))
			}
			if got := s.gateway.Denials(); got != 1 {
				t.Errorf("Denials() = %d, want 1", got)
			}
			if logs := s.logs.String(); !strings.Contains(logs, "access_key_id=ASIAUNKNOWN") {
				t.Errorf("logs:\n%s\nwant the unknown key named", logs)
			}
		})
	}
}

func TestGatewayRefusesUnsignedRequests(t *testing.T) {
	tests := []struct {
		service     string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"dynamodb", 400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{"sqs", 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"sns", 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"s3", 403, "AccessDenied", "Access Denied"},
		{"lambda", 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := newStand(t, tt.service, &policy{}, answerOK(tt.service))
			err := callEach[tt.service](context.Background(), newClients(s.url, "", ""))
			checkAPIError(t, err, tt.wantStatus, tt.wantCode, tt.wantMessage)
			if got := s.upstream.all(); len(got) != 0 {
				t.Errorf("stand-in received %d requests, want none", len(got))
			}
		})
	}
}

func TestGatewayRefusesWhatItCannotClassify(t *testing.T) {
	tests := []struct {
		name    string
		service string
		call    func(ctx context.Context, c clients) error
	}{
		{"DynamoDB PartiQL", "dynamodb", func(ctx context.Context, c clients) error {
			_, err := c.dynamodb.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`DELETE FROM "Jobs" WHERE id = '1'`)})
			return err
		}},
		{"S3 analytics configuration", "s3", func(ctx context.Context, c clients) error {
			_, err := c.s3.GetBucketAnalyticsConfiguration(ctx, &s3.GetBucketAnalyticsConfigurationInput{Bucket: aws.String("imports"), Id: aws.String("a")})
			return err
		}},
		{"Lambda GetFunction", "lambda", func(ctx context.Context, c clients) error {
			_, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The refusal comes before any question to the authorizer.
			s := newStand(t, tt.service, &policy{}, answerOK(tt.service))
			err := tt.call(context.Background(), s.clients())
			var apiErr smithy.APIError
			var respErr *awshttp.ResponseError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotImplemented" || !errors.As(err, &respErr) || respErr.HTTPStatusCode() != 501 {
				t.Fatalf("error %v, want 501 NotImplemented", err)
			}
			if !strings.Contains(apiErr.ErrorMessage(), "cannot tell which IAM actions") {
				t.Errorf("message %q does not say why", apiErr.ErrorMessage())
			}
			if got := s.upstream.all(); len(got) != 0 {
				t.Errorf("stand-in received %d requests, want none: an unclassified request must not pass", len(got))
			}
			if got := s.policy.questions(); len(got) != 0 {
				t.Errorf("authorizer asked %d questions, want none", len(got))
			}
		})
	}
}

func TestGatewayTrustedKeySkipsChecks(t *testing.T) {
	s := newStand(t, "dynamodb", &policy{}, answerOK("dynamodb"))
	c := newClients(s.url, trustedKey, "runner-secret")
	// Even what the gateway cannot classify passes: the runner's own calls are not the functions'.
	_, err := c.dynamodb.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Jobs"`)})
	if err != nil {
		t.Fatalf("trusted call failed: %v", err)
	}
	if got := s.upstream.all(); len(got) != 1 {
		t.Fatalf("stand-in received %d requests, want 1", len(got))
	}
	sameRequest(t, s.front.all()[0], s.upstream.all()[0])
	if got := s.policy.questions(); len(got) != 0 {
		t.Errorf("authorizer asked %d questions for a trusted key, want none", len(got))
	}
}

func TestGatewayForwardsPreflights(t *testing.T) {
	s := newStand(t, "s3", &policy{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Methods", "PUT")
	})
	req, err := http.NewRequest(http.MethodOptions, s.url+"/uploads/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("preflight: got %d with Access-Control-Allow-Origin %q, want 200 with the origin", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := s.upstream.all(); len(got) != 1 || got[0].method != http.MethodOptions {
		t.Errorf("stand-in received %d requests, want the preflight", len(got))
	}
	if got := s.gateway.Denials(); got != 0 {
		t.Errorf("Denials() = %d, want 0", got)
	}
}

func TestGatewayHidesMissingKeysWithoutListBucket(t *testing.T) {
	notFound := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>gone.csv</Key></Error>`)
		}
	}
	get := func(ctx context.Context, c clients) error {
		_, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("in/gone.csv")})
		return err
	}
	head := func(ctx context.Context, c clients) error {
		_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("imports"), Key: aws.String("in/gone.csv")})
		return err
	}
	denied := "User: " + functionARN + ` is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::imports" because no identity-based policy allows the s3:ListBucket action`
	readOnly := []string{"s3:GetObject arn:aws:s3:::imports/*"}
	withList := []string{"s3:GetObject arn:aws:s3:::imports/*", "s3:ListBucket arn:aws:s3:::imports"}
	tests := []struct {
		name        string
		allow       []string
		call        func(ctx context.Context, c clients) error
		wantStatus  int
		wantCode    string
		wantMessage string
		typed       func(error) bool
		wantDenials int64
	}{
		{"GET without s3:ListBucket", readOnly, get, 403, "AccessDenied", denied, nil, 1},
		{"HEAD without s3:ListBucket", readOnly, head, 403, "Forbidden", "Forbidden", nil, 1},
		{"GET with s3:ListBucket", withList, get, 404, "NoSuchKey", "The specified key does not exist.", func(err error) bool {
			var e *s3types.NoSuchKey
			return errors.As(err, &e)
		}, 0},
		{"HEAD with s3:ListBucket", withList, head, 404, "NotFound", "", func(err error) bool {
			var e *s3types.NotFound
			return errors.As(err, &e)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStand(t, "s3", &policy{allow: tt.allow}, notFound)
			err := tt.call(context.Background(), s.clients())
			checkAPIError(t, err, tt.wantStatus, tt.wantCode, tt.wantMessage)
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("error %T is not the SDK's typed error", err)
			}
			if got := s.gateway.Denials(); got != tt.wantDenials {
				t.Errorf("Denials() = %d, want %d", got, tt.wantDenials)
			}
			// S3 asks about the listing with the key as the prefix.
			questions := s.policy.questions()
			last := questions[len(questions)-1]
			if last.Action != "s3:ListBucket" || last.Resource != "arn:aws:s3:::imports" || !reflect.DeepEqual(last.Context["s3:prefix"], []string{"in/gone.csv"}) {
				t.Errorf("last question: got %s %s %v, want s3:ListBucket on the bucket with s3:prefix in/gone.csv", last.Action, last.Resource, last.Context)
			}
			if tt.wantDenials == 1 && !strings.Contains(s.logs.String(), deniedLogLine("s3:ListBucket", "arn:aws:s3:::imports", "s3")) {
				t.Errorf("logs:\n%s\nwant the hidden 404 logged as a denial of s3:ListBucket", s.logs)
			}
		})
	}
}

func TestGatewayPresignedURLsActAsTheirSigner(t *testing.T) {
	tests := []struct {
		name       string
		allow      []string
		wantStatus int
		wantBody   string
	}{
		{"signer allowed", []string{"s3:GetObject arn:aws:s3:::imports/report.csv"}, 200, "object body"},
		{"signer denied", nil, 403, "User: " + functionARN + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::imports/report.csv" because no identity-based policy allows the s3:GetObject action`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStand(t, "s3", &policy{allow: tt.allow}, answerOK("s3"))
			presigned, err := s3.NewPresignClient(s.clients().s3).PresignGetObject(context.Background(),
				&s3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("report.csv")})
			if err != nil {
				t.Fatal(err)
			}
			// The browser's request carries no credentials of its own: only the URL's.
			resp, err := http.Get(presigned.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			got := string(body)
			if resp.StatusCode == 403 {
				var doc struct {
					Code    string `xml:"Code"`
					Message string `xml:"Message"`
				}
				if err := xml.Unmarshal(body, &doc); err != nil || doc.Code != "AccessDenied" || resp.Header.Get("Content-Type") != "application/xml" {
					t.Errorf("403 body %s (%s), want AccessDenied XML", body, resp.Header.Get("Content-Type"))
				}
				got = doc.Message
			}
			if got != tt.wantBody {
				t.Errorf("got %q, want %q", got, tt.wantBody)
			}
			if q := s.policy.questions(); len(q) == 0 || q[0].Context["s3:authType"][0] != "REST-QUERY-STRING" {
				t.Errorf("questions %v: want the pre-signed request's s3:authType", q)
			}
		})
	}
}

func TestGatewayRefusedBrowserRequestKeepsCORSHeaders(t *testing.T) {
	const origin = "http://localhost:5173"
	s := newStand(t, "s3", &policy{}, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions || r.Header.Get("Origin") != origin || r.Header.Get("Access-Control-Request-Method") != http.MethodPut {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
		w.Header().Set("Access-Control-Allow-Headers", "content-type")
		w.Header().Set("Access-Control-Expose-Headers", "ETag")
		w.Header().Set("Vary", "Origin")
	})
	presigned, err := s3.NewPresignClient(s.clients().s3).PresignPutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, presigned.URL, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	want := http.Header{
		"Access-Control-Allow-Origin":   {origin},
		"Access-Control-Allow-Methods":  {"GET, PUT"},
		"Access-Control-Expose-Headers": {"ETag"},
		"Vary":                          {"Origin"},
	}
	for name, values := range want {
		if got := resp.Header.Values(name); !reflect.DeepEqual(got, values) {
			t.Errorf("%s: got %q, want %q", name, got, values)
		}
	}
	if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "" {
		t.Errorf("Access-Control-Allow-Headers %q on an actual response, want none (S3 sends it on preflights only)", got)
	}
	if got := s.upstream.all(); len(got) != 1 || got[0].method != http.MethodOptions {
		t.Errorf("stand-in received %v, want only the preflight", got)
	}
}

func TestNewRequiresACompleteConfig(t *testing.T) {
	upstream, _ := url.Parse("http://127.0.0.1:1")
	callers := func(string) (Caller, bool) { return Caller{}, false }
	trusted := func(string) bool { return false }
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown service", Config{Service: "kinesis", Upstream: upstream, Callers: callers, Trusted: trusted}, `unknown service "kinesis"`},
		{"no upstream", Config{Service: "s3", Callers: callers, Trusted: trusted}, "no upstream"},
		{"no callers", Config{Service: "s3", Upstream: upstream, Trusted: trusted}, "Callers and Trusted are required"},
		{"no trusted", Config{Service: "s3", Upstream: upstream, Callers: callers}, "Callers and Trusted are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// DynamoDB Local leaves X-Amz-Crc32 off its errors, and the SDK then logs a checksum warning for
// every conditional-check failure. The gateway completes the answer as DynamoDB sends it.
func TestDynamoDBAnswersCarryCRC32(t *testing.T) {
	const body = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`
	s := newStand(t, "dynamodb", &policy{allow: []string{"dynamodb:PutItem " + jobsTable}}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, body)
	})
	var got http.Header
	cfg := aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(functionKey, functionSecret, ""),
		BaseEndpoint: aws.String(s.url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	// Checksum validation stays on, as in the functions.
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("capture", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
					got = resp.Header.Clone()
				}
				return out, md, err
			}), middleware.After)
		})
	})
	_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("Jobs"),
		Item:      map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}},
	})
	var failed *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		t.Fatalf("PutItem: got %v, want ConditionalCheckFailedException", err)
	}
	if want := strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10); got.Get("X-Amz-Crc32") != want {
		t.Errorf("X-Amz-Crc32: got %q, want %q (the CRC32 of the body)", got.Get("X-Amz-Crc32"), want)
	}
}
