package sources

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// versityPut is what versitygw v1.8.0 posted for a pre-signed PUT (captured; key changed to
// show encoding).
const versityPut = `{"Records":[{"eventVersion":"2.2","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-30T11:10:14Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"PrincipalId":"local"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"","x-amz-id-2":""},"s3":{"s3SchemaVersion":"1.0","configurationId":"webhook-global","bucket":{"name":"bucket-one","ownerIdentity":{"PrincipalId":"local"},"arn":"arn:aws:s3:::/bucket-one/uploads/u/1/a b+c.png"},"object":{"key":"uploads/u/1/a b+c.png","size":16,"eTag":"\"4f3f16dc977795876d52965da80a42c4\"","versionId":null,"sequencer":"1"}},"glacierEventData":{"restoreEventData":{"lifecycleRestorationExpiryTime":"","lifecycleRestoreStorageClass":""}}}]}`

const versityTestEvent = `{"Bucket":"Test-Bucket","Event":"s3:TestEvent","Service":"S3","Time":"2026-11-30T11:10:10Z"}`

func TestNormalizeS3Records(t *testing.T) {
	records, err := NormalizeS3Records([]byte(versityPut), "eu-west-1")
	if err != nil || len(records) != 1 {
		t.Fatalf("NormalizeS3Records = %d records, %v; want 1", len(records), err)
	}
	r := records[0]
	checks := []struct{ name, got, want string }{
		{"eventName", r.EventName, "ObjectCreated:Put"},
		{"eventSource", r.EventSource, "aws:s3"},
		{"eventTime", r.EventTime, "2026-11-30T11:10:14.000Z"},
		{"awsRegion", r.AWSRegion, "us-east-1"},
		{"userIdentity.principalId", r.UserIdentity.PrincipalID, "local"},
		{"bucket.arn", r.S3.Bucket.ARN, "arn:aws:s3:::bucket-one"},
		{"bucket.ownerIdentity", r.S3.Bucket.OwnerIdentity.PrincipalID, "local"},
		{"object.key", r.S3.Object.Key, "uploads/u/1/a+b%2Bc.png"},
		{"object.eTag", r.S3.Object.ETag, "4f3f16dc977795876d52965da80a42c4"},
		{"object.sequencer", r.S3.Object.Sequencer, "0000000000000001"},
		{"sourceIPAddress", r.RequestParameters["sourceIPAddress"], "127.0.0.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if r.S3.Object.Size != 16 {
		t.Errorf("object.size = %d; want 16", r.S3.Object.Size)
	}

	// What a Go handler sees after aws-lambda-go decodes it.
	payload, _ := json.Marshal(S3Event{Records: records})
	var ev events.S3Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("aws-lambda-go cannot decode the normalised event: %v", err)
	}
	if got := ev.Records[0].S3.Object.URLDecodedKey; got != "uploads/u/1/a b+c.png" {
		t.Errorf("URLDecodedKey = %q; want the original key", got)
	}
	if !ev.Records[0].EventTime.Equal(time.Date(2026, 11, 30, 11, 10, 14, 0, time.UTC)) {
		t.Errorf("EventTime = %v; want 2026-11-30T11:10:14Z", ev.Records[0].EventTime)
	}
}

func TestNormalizeS3RecordsLooseFields(t *testing.T) {
	tests := []struct {
		name, body    string
		wantRecords   int
		wantSequencer string
		wantErr       bool
	}{
		{name: "test event", body: versityTestEvent},
		{name: "numeric sequencer", body: `{"Records":[{"eventName":"s3:ObjectCreated:Copy","s3":{"bucket":{"name":"b"},"object":{"key":"k","sequencer":26}}}]}`, wantRecords: 1, wantSequencer: "000000000000001A"},
		{name: "AWS spelling passes through", body: `{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k","sequencer":"0055AED6DCD90281E5"}}}]}`, wantRecords: 1, wantSequencer: "0055AED6DCD90281E5"},
		{name: "not JSON", body: `<xml/>`, wantErr: true},
		{name: "record without bucket", body: `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, err := NormalizeS3Records([]byte(tt.body), "us-east-1")
			if (err != nil) != tt.wantErr || len(records) != tt.wantRecords {
				t.Fatalf("NormalizeS3Records = %d records, %v; want %d records, error %v", len(records), err, tt.wantRecords, tt.wantErr)
			}
			if tt.wantRecords > 0 && records[0].S3.Object.Sequencer != tt.wantSequencer {
				t.Errorf("sequencer = %q; want %q", records[0].S3.Object.Sequencer, tt.wantSequencer)
			}
		})
	}
}

func TestS3SubscriptionMatches(t *testing.T) {
	sub := S3Subscription{Bucket: "b", Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"}, Prefix: "uploads/", Suffix: ".png"}
	tests := []struct {
		bucket, event, key string
		want               bool
	}{
		{"b", "ObjectCreated:Put", "uploads/x.png", true},
		{"b", "ObjectCreated:CompleteMultipartUpload", "uploads/a/b.png", true},
		{"b", "ObjectRemoved:Delete", "uploads/x.png", true},
		{"b", "ObjectRemoved:DeleteMarkerCreated", "uploads/x.png", false},
		{"b", "ObjectTagging:Delete", "uploads/x.png", false},
		{"other", "ObjectCreated:Put", "uploads/x.png", false},
		{"b", "ObjectCreated:Put", "quarantine/x.png", false},
		{"b", "ObjectCreated:Put", "uploads/x.jpg", false},
	}
	for _, tt := range tests {
		if got := sub.matches(tt.bucket, tt.event, tt.key); got != tt.want {
			t.Errorf("matches(%s, %s, %s) = %v; want %v", tt.bucket, tt.event, tt.key, got, tt.want)
		}
	}
}

// fakeEnqueuer records what would be invoked asynchronously.
type fakeEnqueuer struct {
	mu     sync.Mutex
	events map[string][]events.S3Event
}

func (f *fakeEnqueuer) Enqueue(function string, payload []byte) string {
	var ev events.S3Event
	_ = json.Unmarshal(payload, &ev)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		f.events = map[string][]events.S3Event{}
	}
	f.events[function] = append(f.events[function], ev)
	return "id"
}

func (f *fakeEnqueuer) For(function string) []events.S3Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[function]
}

func TestS3NotificationsDeliverToSubscribers(t *testing.T) {
	n, err := ListenS3Notifications("127.0.0.1:0", "us-east-1", quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(n.URL(), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Before Deliver (while the stand-in starts and sends its test event) nothing is delivered.
	if got := post(versityTestEvent); got != http.StatusOK {
		t.Errorf("test event answered %d; want 200", got)
	}
	to := &fakeEnqueuer{}
	n.Deliver([]S3Subscription{
		{Function: "verify", ConfigurationID: "UploadCreated", Bucket: "bucket-one", Events: []string{"s3:ObjectCreated:*"}, Prefix: "uploads/"},
		{Function: "audit", Bucket: "bucket-one", Events: []string{"s3:ObjectRemoved:*"}},
		{Function: "elsewhere", Bucket: "bucket-two", Events: []string{"s3:ObjectCreated:*"}},
	}, to)

	if got := post(versityPut); got != http.StatusOK {
		t.Fatalf("webhook answered %d; want 200", got)
	}
	got := to.For("verify")
	if len(got) != 1 || len(got[0].Records) != 1 {
		t.Fatalf("verify got %+v; want one event with one record", got)
	}
	rec := got[0].Records[0]
	if rec.EventName != "ObjectCreated:Put" || rec.S3.ConfigurationID != "UploadCreated" || rec.S3.Object.URLDecodedKey != "uploads/u/1/a b+c.png" {
		t.Errorf("record = %s %s %s; want ObjectCreated:Put from UploadCreated for the uploaded key", rec.EventName, rec.S3.ConfigurationID, rec.S3.Object.URLDecodedKey)
	}
	if len(to.For("audit")) != 0 || len(to.For("elsewhere")) != 0 {
		t.Errorf("unsubscribed functions got events: audit %d, elsewhere %d", len(to.For("audit")), len(to.For("elsewhere")))
	}

	// A POST upload arrives from versitygw without its key: it cannot be matched to a prefix.
	post(strings.Replace(versityPut, `"key":"uploads/u/1/a b+c.png"`, `"key":""`, 1))
	if len(to.For("verify")) != 1 {
		t.Errorf("an event without a key was delivered")
	}
	if got := post(`not json`); got != http.StatusBadRequest {
		t.Errorf("malformed body answered %d; want 400", got)
	}
}
