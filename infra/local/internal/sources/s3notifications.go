package sources

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxWebhookBytes bounds one webhook request; a record is well under a kilobyte.
const maxWebhookBytes = 1 << 20

// S3Subscription is one function's S3 event as the template declares it: which bucket, which
// event names (wildcards such as s3:ObjectCreated:* allowed) and which key prefix and suffix.
type S3Subscription struct {
	Function string
	// ConfigurationID is what records carry as s3.configurationId (the template's event name).
	ConfigurationID string
	Bucket          string
	Events          []string
	Prefix, Suffix  string
}

// matches reports whether a record of eventName (AWS form, without "s3:") for key concerns s.
func (s S3Subscription) matches(bucket, eventName, key string) bool {
	if bucket != s.Bucket || !strings.HasPrefix(key, s.Prefix) || !strings.HasSuffix(key, s.Suffix) {
		return false
	}
	for _, pattern := range s.Events {
		pattern = strings.TrimPrefix(pattern, "s3:")
		if base, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(eventName, base) || pattern == eventName {
			return true
		}
	}
	return false
}

// AsyncEnqueuer accepts an event for asynchronous invocation (*Async is one).
type AsyncEnqueuer interface {
	Enqueue(function string, payload []byte) string
}

// S3Notifications stands in for S3 event notifications to Lambda. It receives the S3 stand-in's
// (versitygw's) event webhook, rewrites each record into the shape AWS sends, and hands every
// subscribed function an event with that one record through asynchronous invocation, as S3 does.
//
// Differences from AWS it smooths over: versitygw names events "s3:ObjectCreated:Put" (AWS drops
// the "s3:"), builds a malformed bucket ARN, spells some fields with other case
// ("PrincipalId"), may send the sequencer as a number, quotes the ETag, does not URL-encode the
// key, and posts a test document ({"Event":"s3:TestEvent"}) at start-up, which is ignored. POST
// (browser form) uploads arrive with an empty key and cannot be delivered; they are logged.
type S3Notifications struct {
	Log    *slog.Logger
	Region string

	listener net.Listener
	server   *http.Server

	mu   sync.RWMutex
	subs []S3Subscription
	to   AsyncEnqueuer
}

// ListenS3Notifications starts the webhook receiver on addr (127.0.0.1:0 picks a free port).
// Start it before the S3 stand-in, which refuses to start without it; records that arrive
// before Deliver is called are dropped.
func ListenS3Notifications(addr, region string, log *slog.Logger) (*S3Notifications, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for S3 event notifications on %s: %w", addr, err)
	}
	n := &S3Notifications{Log: log, Region: region, listener: l}
	n.server = &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := n.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("S3 event notification receiver stopped", "error", err)
		}
	}()
	return n, nil
}

// URL is where the S3 stand-in posts its events.
func (n *S3Notifications) URL() string {
	return "http://" + n.listener.Addr().String() + "/"
}

// Deliver sets the subscriptions and where their events go; until it is called nothing is delivered.
func (n *S3Notifications) Deliver(subs []S3Subscription, to AsyncEnqueuer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subs, n.to = subs, to
}

// Close stops the receiver.
func (n *S3Notifications) Close() error {
	if n.server == nil {
		return nil
	}
	return n.server.Close()
}

// ServeHTTP receives one webhook post. It answers at once: delivery is asynchronous, as S3's is.
func (n *S3Notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBytes))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	records, err := NormalizeS3Records(body, n.Region)
	if err != nil {
		n.Log.Warn("S3 event notification not understood; dropped", "error", err)
		http.Error(w, "not an S3 event", http.StatusBadRequest)
		return
	}
	n.mu.RLock()
	subs, to := n.subs, n.to
	n.mu.RUnlock()
	for _, rec := range records {
		if rec.S3.Object.Key == "" {
			n.Log.Warn("S3 event without an object key dropped (versitygw reports POST uploads so)", "eventName", rec.EventName, "bucket", rec.S3.Bucket.Name)
			continue
		}
		decoded, _ := url.QueryUnescape(rec.S3.Object.Key) // the key was encoded by NormalizeS3Records
		for _, s := range subs {
			if to == nil || !s.matches(rec.S3.Bucket.Name, rec.EventName, decoded) {
				continue
			}
			rec.S3.ConfigurationID = s.ConfigurationID
			payload, err := json.Marshal(S3Event{Records: []S3EventRecord{rec}})
			if err != nil {
				n.Log.Error("marshal S3 event", "error", err)
				continue
			}
			id := to.Enqueue(s.Function, payload)
			n.Log.Debug("S3 event delivered", "function", s.Function, "eventName", rec.EventName, "key", decoded, "requestId", id)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// S3Event is an S3 event notification as AWS hands it to Lambda.
type S3Event struct {
	Records []S3EventRecord `json:"Records"`
}

// S3EventRecord is one record of an S3 event, in AWS's shape and field names.
type S3EventRecord struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      S3Identity        `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                S3Entity          `json:"s3"`
}

// S3Identity is a principal as S3 events name it.
type S3Identity struct {
	PrincipalID string `json:"principalId"`
}

// S3Entity is the bucket and object of a record.
type S3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          S3Bucket `json:"bucket"`
	Object          S3Object `json:"object"`
}

// S3Bucket is a record's bucket.
type S3Bucket struct {
	Name          string     `json:"name"`
	OwnerIdentity S3Identity `json:"ownerIdentity"`
	ARN           string     `json:"arn"`
}

// S3Object is a record's object. The key is URL-encoded as AWS encodes it (a space is '+').
type S3Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// NormalizeS3Records parses a webhook body from the S3 stand-in and returns its records in AWS's
// shape. A document without records (the start-up test event) yields none and no error.
func NormalizeS3Records(body []byte, region string) ([]S3EventRecord, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode S3 event: %w", err)
	}
	raw, ok := field(doc, "Records")
	if !ok {
		return nil, nil // s3:TestEvent
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decode S3 event records: %w", err)
	}
	out := make([]S3EventRecord, 0, len(list))
	for i, r := range list {
		rec, err := normalizeRecord(r, region)
		if err != nil {
			return nil, fmt.Errorf("S3 event record %d: %w", i, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

func normalizeRecord(r map[string]json.RawMessage, region string) (S3EventRecord, error) {
	s3 := object(r, "s3")
	bucket := object(s3, "bucket")
	obj := object(s3, "object")
	name := str(bucket, "name")
	eventName := strings.TrimPrefix(str(r, "eventName"), "s3:")
	if name == "" || eventName == "" {
		return S3EventRecord{}, errors.New("no bucket name or event name")
	}
	eventTime := str(r, "eventTime")
	if t, err := time.Parse(time.RFC3339Nano, eventTime); err == nil {
		eventTime = t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	size, _ := number64(obj, "size")
	rec := S3EventRecord{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    cmp.Or(str(r, "awsRegion"), region),
		EventTime:    eventTime,
		EventName:    eventName,
		UserIdentity: S3Identity{PrincipalID: str(object(r, "userIdentity"), "principalId")},
		RequestParameters: map[string]string{
			"sourceIPAddress": str(object(r, "requestParameters"), "sourceIPAddress"),
		},
		ResponseElements: map[string]string{
			"x-amz-request-id": str(object(r, "responseElements"), "x-amz-request-id"),
			"x-amz-id-2":       str(object(r, "responseElements"), "x-amz-id-2"),
		},
		S3: S3Entity{
			SchemaVersion: "1.0",
			Bucket: S3Bucket{
				Name:          name,
				OwnerIdentity: S3Identity{PrincipalID: str(object(bucket, "ownerIdentity"), "principalId")},
				ARN:           "arn:aws:s3:::" + name,
			},
			Object: S3Object{
				Key:       encodeKey(str(obj, "key")),
				Size:      size,
				ETag:      strings.Trim(str(obj, "eTag"), `"`),
				VersionID: str(obj, "versionId"),
				Sequencer: sequencer(obj),
			},
		},
	}
	return rec, nil
}

// encodeKey URL-encodes a key as S3 does in notifications: form encoding, '/' kept.
func encodeKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

// sequencer returns the record's sequencer as AWS's hexadecimal string; versitygw may send a
// decimal number or a decimal string.
func sequencer(obj map[string]json.RawMessage) string {
	if n, ok := number64(obj, "sequencer"); ok {
		return fmt.Sprintf("%016X", n)
	}
	return str(obj, "sequencer")
}

// field looks a name up ignoring case: the stand-in does not always spell names as AWS does.
func field(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func object(m map[string]json.RawMessage, name string) map[string]json.RawMessage {
	raw, _ := field(m, name)
	var out map[string]json.RawMessage
	_ = json.Unmarshal(raw, &out) // absent or not an object: empty
	return out
}

func str(m map[string]json.RawMessage, name string) string {
	raw, _ := field(m, name)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// number64 reads a JSON number, or a string holding a decimal number.
func number64(m map[string]json.RawMessage, name string) (int64, bool) {
	raw, _ := field(m, name)
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}
