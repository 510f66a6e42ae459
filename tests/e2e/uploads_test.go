package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The uploads pattern end to end: a signed PUT straight to S3, S3's notification, the verifier,
// and the owner's download. Local and deployed alike, except where a test says requireLocal.

// uploads is the service this file tests: its tests call its API and name its functions through it.
const uploads service = "Uploads"

// uploadGrant is the answer to POST /uploads.
type uploadGrant struct {
	UploadID  string            `json:"uploadId"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// uploadStatus is the answer to GET /uploads/{id}.
type uploadStatus struct {
	UploadID string `json:"uploadId"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Size     int64  `json:"size"`
}

func sha256Base64(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// declare asks for a signed PUT for body and fails the test unless it gets 201.
func declare(t *testing.T, token, fileName, contentType string, body []byte, extra string) uploadGrant {
	t.Helper()
	req := fmt.Sprintf(`{"fileName":%q,"contentType":%q,"size":%d,"sha256":%q%s}`, fileName, contentType, len(body), sha256Base64(body), extra)
	r := uploads.call(t, "POST", "/uploads", token, req)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /uploads = %d %s; want 201", r.status, r.body)
	}
	var g uploadGrant
	r.json(t, &g)
	if g.UploadID == "" || g.Method != http.MethodPut || g.URL == "" || r.header.Get("Location") != "/uploads/"+g.UploadID {
		t.Fatalf("grant = %+v, Location %q; want an id, a PUT URL and Location", g, r.header.Get("Location"))
	}
	return g
}

// put sends body to the signed URL with the signed headers, edited by edit, and returns S3's status.
func put(t *testing.T, g uploadGrant, body []byte, edit func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(g.Method, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range g.Headers {
		req.Header.Set(name, value)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT to S3: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

// getUpload reads an upload's status as token's user.
func getUpload(t *testing.T, token, id string) (int, uploadStatus) {
	t.Helper()
	r := uploads.call(t, "GET", "/uploads/"+id, token, "")
	var s uploadStatus
	if r.status == http.StatusOK {
		r.json(t, &s)
	}
	return r.status, s
}

// waitVerified polls until the upload is no longer PENDING.
func waitVerified(t *testing.T, token, id string) uploadStatus {
	t.Helper()
	defer logsOnFailure(t)()
	var s uploadStatus
	eventually(t, 60*time.Second, 250*time.Millisecond, func() (bool, string) {
		var code int
		code, s = getUpload(t, token, id)
		if code != http.StatusOK {
			t.Fatalf("GET /uploads/%s = %d; want 200", id, code)
		}
		return s.Status != "PENDING", fmt.Sprintf("upload %s still %s", id, s.Status)
	})
	return s
}

// signedKey returns the object key a signed S3 URL names: its path without the bucket, which
// leads the path in the local path-style URLs and the host name in AWS's virtual-hosted ones.
func signedKey(t *testing.T, signedURL, bucket string) string {
	t.Helper()
	u, err := url.Parse(signedURL)
	if err != nil {
		t.Fatalf("parse signed URL %q: %v", signedURL, err)
	}
	path := strings.TrimPrefix(u.Path, "/")
	if strings.HasPrefix(u.Host, bucket+".") {
		return path
	}
	key, ok := strings.CutPrefix(path, bucket+"/")
	if !ok {
		t.Fatalf("signed URL %q names no object in bucket %s", signedURL, bucket)
	}
	return key
}

// objectExists asks S3 itself whether an upload's object is in the uploads bucket.
func objectExists(t *testing.T, g uploadGrant) bool {
	t.Helper()
	bucket := st.outputs["UploadsBucketName"]
	key := signedKey(t, g.URL, bucket)
	_, err := st.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var notFound *s3types.NotFound
	switch {
	case err == nil:
		return true
	case errors.As(err, &notFound):
		return false
	default:
		t.Fatalf("head s3://%s/%s: %v", bucket, key, err)
		return false
	}
}

// pngBody is n bytes that start with PNG's signature.
func pngBody(n int) []byte {
	body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	copy(body, "\x89PNG\r\n\x1a\n")
	return body
}

func TestUploadLargerThanLambdaPayloadBecomesAvailable(t *testing.T) {
	token := st.token(t, "uploader-large", nil)
	body := pngBody(20 << 20) // 20 MB: more than three times Lambda's 6 MB payload limit
	g := declare(t, token, "holiday photo.png", "image/png", body, "")
	if !g.ExpiresAt.After(time.Now()) || g.ExpiresAt.After(time.Now().Add(15*time.Minute+time.Minute)) {
		t.Errorf("expiresAt = %v; want within 15 minutes from now", g.ExpiresAt)
	}
	if code, answer := put(t, g, body, nil); code != http.StatusOK {
		t.Fatalf("PUT = %d %s; want 200", code, answer)
	}
	if s := waitVerified(t, token, g.UploadID); s.Status != "AVAILABLE" || s.Size != int64(len(body)) {
		t.Fatalf("upload = %+v; want AVAILABLE with the declared size", s)
	}

	r := uploads.call(t, "GET", "/uploads/"+g.UploadID+"/download", token, "")
	if r.status != http.StatusOK {
		t.Fatalf("download = %d %s; want 200", r.status, r.body)
	}
	var d struct {
		URL string `json:"url"`
	}
	r.json(t, &d)
	resp, err := client.Get(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET signed download = %d, %d bytes; want 200 and the uploaded bytes", resp.StatusCode, len(got))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "holiday photo.png") {
		t.Errorf("Content-Disposition = %q; want an attachment with the original file name", cd)
	}

	// Another user learns nothing: the same 404 as an id that does not exist.
	other := st.token(t, "uploader-other", nil)
	if code, _ := getUpload(t, other, g.UploadID); code != http.StatusNotFound {
		t.Errorf("another user's GET = %d; want 404", code)
	}
	wantProblem(t, uploads.call(t, "GET", "/uploads/"+g.UploadID+"/download", other, ""), http.StatusNotFound)
	wantProblem(t, uploads.call(t, "GET", "/uploads/00000000000000000000000000000000", token, ""), http.StatusNotFound)
}

func TestUploadS3RefusesWhatWasNotSigned(t *testing.T) {
	token := st.token(t, "uploader-tamper", nil)

	// Expired: ask for a one-second URL and use it late.
	expiredBody := pngBody(1024)
	expired := declare(t, token, "late.png", "image/png", expiredBody, `,"expiresInSeconds":1`)
	time.Sleep(2500 * time.Millisecond)
	if code, answer := put(t, expired, expiredBody, nil); code != http.StatusForbidden {
		t.Errorf("expired URL: PUT = %d %s; want 403", code, answer)
	}

	body := pngBody(4096)
	tests := []struct {
		name string
		body []byte
		edit func(*http.Request)
		want int
	}{
		{name: "other content type", body: body, edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }, want: http.StatusForbidden},
		{name: "larger body", body: append(append([]byte(nil), body...), 'x'), want: http.StatusForbidden},
		{name: "same size, other bytes", body: append([]byte("\x89PNG\r\n\x1a\nX"), body[9:]...), want: http.StatusBadRequest},
		{name: "tampered signature", body: body, edit: func(r *http.Request) {
			q := r.URL.Query()
			sig := []byte(q.Get("X-Amz-Signature"))
			sig[0] ^= 1
			q.Set("X-Amz-Signature", string(sig))
			r.URL.RawQuery = q.Encode()
		}, want: http.StatusForbidden},
		{name: "without the pending tag", body: body, edit: func(r *http.Request) { r.Header.Del("X-Amz-Tagging") }, want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := declare(t, token, "photo.png", "image/png", body, "")
			if code, answer := put(t, g, tt.body, tt.edit); code != tt.want {
				t.Fatalf("PUT = %d %s; want %d", code, answer, tt.want)
			}
			// Nothing was stored: no object, the upload still PENDING, and the signed request
			// itself still works, once, and only then does the upload become AVAILABLE.
			if objectExists(t, g) {
				t.Fatal("the refused PUT left an object in the bucket")
			}
			if _, s := getUpload(t, token, g.UploadID); s.Status != "PENDING" {
				t.Fatalf("after the refused PUT the upload is %s; want PENDING", s.Status)
			}
			if code, answer := put(t, g, body, nil); code != http.StatusOK {
				t.Fatalf("the signed PUT = %d %s; want 200", code, answer)
			}
			if s := waitVerified(t, token, g.UploadID); s.Status != "AVAILABLE" {
				t.Fatalf("upload = %+v; want AVAILABLE", s)
			}
			if !objectExists(t, g) {
				t.Error("the AVAILABLE upload has no object in the bucket")
			}
		})
	}
	// By now every other upload was verified; the expired one never reached S3.
	if code, s := getUpload(t, token, expired.UploadID); code != http.StatusOK || s.Status != "PENDING" {
		t.Errorf("expired upload = %d %+v; want still PENDING", code, s)
	}
	if objectExists(t, expired) {
		t.Error("the PUT with an expired URL left an object in the bucket")
	}
	wantProblem(t, uploads.call(t, "GET", "/uploads/"+expired.UploadID+"/download", token, ""), http.StatusConflict)
}

func TestUploadThatLiesAboutItsTypeIsRejected(t *testing.T) {
	token := st.token(t, "uploader-liar", nil)
	body := []byte("this is plain text pretending to be a PNG image\n")
	g := declare(t, token, "not-really.png", "image/png", body, "")
	if code, answer := put(t, g, body, nil); code != http.StatusOK {
		t.Fatalf("PUT = %d %s; want 200 (size, type header and checksum are as declared)", code, answer)
	}
	s := waitVerified(t, token, g.UploadID)
	if s.Status != "REJECTED" || !strings.Contains(s.Reason, "image/png") {
		t.Fatalf("upload = %+v; want REJECTED because the content is not image/png", s)
	}
	wantProblem(t, uploads.call(t, "GET", "/uploads/"+g.UploadID+"/download", token, ""), http.StatusConflict)
	// The verifier deletes a rejected object before it records REJECTED: it is gone already.
	if objectExists(t, g) {
		t.Errorf("the REJECTED upload %s is still in the bucket; want it deleted", g.UploadID)
	}
	if st.logs != nil {
		if lines := logged("upload rejected", g.UploadID); len(lines) == 0 {
			t.Errorf("no 'upload rejected' log line for %s", g.UploadID)
		}
	}
}

// TestUploadVerifierRetriedAfterItDeletedARejectedObject delivers S3's notification of a
// rejected upload to VerifyUploadFunction again, as Lambda's retries and S3's duplicate
// deliveries do. The verifier deletes a rejected object before it records REJECTED, so every
// retry after the delete finds no object, and must treat that as the decision already made, not
// as a failure to retry:
//
//   - The upload already REJECTED: the verifier deletes the object again (s3:DeleteObject, which
//     S3 answers 204 for a missing key). Without s3:DeleteObject the invocation fails.
//   - The upload still PENDING (the first attempt deleted the object and failed before it wrote
//     REJECTED; a declared upload whose object never arrived is the same state): the verifier's
//     HeadObject must get 404 to record REJECTED "the object is missing". S3 answers 404 only to
//     a role with s3:ListBucket on the bucket, 403 otherwise: then every attempt fails, the event
//     lands in VerifyUploadFailureQueue, and the upload stays PENDING.
//
// Deployed, it needs credentials allowed to invoke VerifyUploadFunction and read
// VerifyUploadFailureQueue.
func TestUploadVerifierRetriedAfterItDeletedARejectedObject(t *testing.T) {
	token := st.token(t, "uploader-retried", nil)
	bucket := st.outputs["UploadsBucketName"]
	function := uploads.functionName(t, "VerifyUploadFunction")
	defer logsOnFailure(t, "VerifyUploadFunction")()

	body := []byte("plain text, and not for the first time, pretending to be a PNG\n")
	rejected := declare(t, token, "again.png", "image/png", body, "")
	if code, answer := put(t, rejected, body, nil); code != http.StatusOK {
		t.Fatalf("PUT = %d %s; want 200", code, answer)
	}
	first := waitVerified(t, token, rejected.UploadID)
	if first.Status != "REJECTED" {
		t.Fatalf("upload = %+v; want REJECTED (its content is not image/png)", first)
	}
	rejectedKey := signedKey(t, rejected.URL, bucket)

	// The same notification again, synchronously, to see the invocation's own result.
	out, err := st.lambda.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(function),
		Payload:      s3CreatedEvent(t, bucket, rejectedKey, int64(len(body))),
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", function, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("the redelivered notification failed the invocation (%s): %s; want it to succeed, the decision made", aws.ToString(out.FunctionError), out.Payload)
	}
	if _, s := getUpload(t, token, rejected.UploadID); s != first {
		t.Errorf("after the redelivery the upload is %+v; want it unchanged, %+v", s, first)
	}
	if objectExists(t, rejected) {
		t.Error("the redelivery left an object for the REJECTED upload")
	}

	// A retry that finds the object gone and the upload still PENDING, delivered as S3 delivers:
	// asynchronously, with Lambda's retries and failure queue behind it.
	missing := declare(t, token, "gone.png", "image/png", pngBody(1024), "")
	missingKey := signedKey(t, missing.URL, bucket)
	if _, err := st.lambda.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName:   aws.String(function),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        s3CreatedEvent(t, bucket, missingKey, 1024),
	}); err != nil {
		t.Fatalf("invoke %s asynchronously: %v", function, err)
	}
	var s uploadStatus
	eventually(t, 60*time.Second, 250*time.Millisecond, func() (bool, string) {
		if record, found := verifyFailureFor(t, missingKey); found {
			t.Fatalf("the notification for %s failed every attempt and is in VerifyUploadFailureQueue; want the upload REJECTED:\n%s", missingKey, record)
		}
		var code int
		code, s = getUpload(t, token, missing.UploadID)
		if code != http.StatusOK {
			t.Fatalf("GET /uploads/%s = %d; want 200", missing.UploadID, code)
		}
		return s.Status != "PENDING", fmt.Sprintf("upload %s still PENDING", missing.UploadID)
	})
	if s.Status != "REJECTED" || s.Reason != "the object is missing" {
		t.Fatalf("upload = %+v; want REJECTED: the object is missing", s)
	}

	for _, key := range []string{rejectedKey, missingKey} {
		if record, found := verifyFailureFor(t, key); found {
			t.Errorf("a notification for %s is in VerifyUploadFailureQueue; want none:\n%s", key, record)
		}
	}
}

// s3CreatedEvent is the notification S3 sends VerifyUploadFunction for a PUT of key: one
// ObjectCreated:Put record, the key URL-encoded as S3 encodes it.
func s3CreatedEvent(t *testing.T, bucket, key string, size int64) []byte {
	t.Helper()
	segments := strings.Split(key, "/")
	for i, seg := range segments {
		segments[i] = url.QueryEscape(seg)
	}
	now := time.Now().UTC()
	event := map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": st.lambda.Options().Region,
		"eventTime": now.Format("2006-01-02T15:04:05.000Z"), "eventName": "ObjectCreated:Put",
		"userIdentity": map[string]any{"principalId": "e2e"},
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": "e2e-redelivery",
			"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket, "ownerIdentity": map[string]any{"principalId": "e2e"}},
			"object": map[string]any{"key": strings.Join(segments, "/"), "size": size, "sequencer": fmt.Sprintf("%016X", now.UnixNano())},
		},
	}}}
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// verifyFailureFor looks at the messages in VerifyUploadFailureQueue for Lambda's failure record
// of an event naming key. Nothing consumes that queue (it is kept for a redrive), and the messages
// stay in it: each is hidden for a second (the shortest visibility timeout; 0 would mean the
// queue's own), then back.
func verifyFailureFor(t *testing.T, key string) (record string, found bool) {
	t.Helper()
	out, err := st.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(st.outputs["VerifyUploadFailureQueueUrl"]), MaxNumberOfMessages: 10, VisibilityTimeout: 1,
	})
	if err != nil {
		t.Fatalf("read VerifyUploadFailureQueue: %v", err)
	}
	for _, m := range out.Messages {
		if body := aws.ToString(m.Body); strings.Contains(body, key) {
			return body, true
		}
	}
	return "", false
}

func TestUploadBadRequestsAreRefusedBeforeSigning(t *testing.T) {
	token := st.token(t, "uploader-bad", nil)
	sum := sha256Base64([]byte("x"))
	tests := []struct {
		name, body, param string
	}{
		{"size zero", fmt.Sprintf(`{"fileName":"a.png","contentType":"image/png","size":0,"sha256":%q}`, sum), "size"},
		{"size over the limit", fmt.Sprintf(`{"fileName":"a.png","contentType":"image/png","size":104857601,"sha256":%q}`, sum), "size"},
		{"disallowed type", fmt.Sprintf(`{"fileName":"a.html","contentType":"text/html","size":1,"sha256":%q}`, sum), "contentType"},
		{"path traversal", fmt.Sprintf(`{"fileName":"../../etc/passwd","contentType":"text/plain","size":1,"sha256":%q}`, sum), "fileName"},
		{"directory in name", fmt.Sprintf(`{"fileName":"a/b.png","contentType":"image/png","size":1,"sha256":%q}`, sum), "fileName"},
		{"only dots", fmt.Sprintf(`{"fileName":"..","contentType":"image/png","size":1,"sha256":%q}`, sum), "fileName"},
		{"control character", fmt.Sprintf(`{"fileName":"a\u0000.png","contentType":"image/png","size":1,"sha256":%q}`, sum), "fileName"},
		{"checksum not SHA-256", `{"fileName":"a.png","contentType":"image/png","size":1,"sha256":"abc"}`, "sha256"},
		{"expiry too long", fmt.Sprintf(`{"fileName":"a.png","contentType":"image/png","size":1,"sha256":%q,"expiresInSeconds":86400}`, sum), "expiresInSeconds"},
		{"key chosen by the caller", fmt.Sprintf(`{"fileName":"a.png","contentType":"image/png","size":1,"sha256":%q,"key":"uploads/x"}`, sum), "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wantProblem(t, uploads.call(t, "POST", "/uploads", token, tt.body), http.StatusBadRequest)
			if len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.param {
				t.Errorf("invalid-params = %+v; want %s named", p.InvalidParams, tt.param)
			}
		})
	}
	if r := uploads.call(t, "POST", "/uploads", "", `{}`); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d; want 401", r.status)
	}
	if st.logs == nil {
		return // on a deployed stack the owner is the Cognito sub, not the user name scanned for below
	}
	// Nothing was recorded for this user: every refusal came before the write.
	out, err := st.dynamodb.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(st.outputs["UploadsTableName"]),
		FilterExpression:          aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: "uploader-bad"}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("scan uploads table: %v", err)
	}
	if len(out.Items) != 0 {
		t.Errorf("uploads recorded for refused requests: %d; want none", len(out.Items))
	}
}

// TestUploadWebPageInHeadlessChromium drives the static page the runner serves at
// /.web/uploads/ in Debian's Chromium through playwright-core (see browser): a 20 MB file, over
// three times Lambda's payload limit, goes to S3 with the progress bar reaching 100% and ends
// AVAILABLE with a download link; a text file posing as a PNG, dropped on the page, ends
// REJECTED; a file whose bytes change on the way, and one sent after its link expired, are
// refused by S3, and the page says why in words with S3's code underneath; the recent uploads
// list shows all four.
func TestUploadWebPageInHeadlessChromium(t *testing.T) {
	requireLocal(t) // the page is served by the local runner
	dir := t.TempDir()
	const size = 20_000_000
	files := map[string][]byte{
		"large.png":    pngBody(size),
		"fake.png":     []byte("plain text, not a picture\n"),
		"tampered.txt": []byte("hello, world\n"),
		"late.txt":     []byte("sent after its link expired\n"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The large file last: the screenshot is taken after it, with the whole list.
	cases, _ := json.Marshal([]map[string]any{
		{"name": "fake.png", "type": "image/png", "path": filepath.Join(dir, "fake.png"), "drop": true},
		{"name": "tampered.txt", "type": "text/plain", "path": filepath.Join(dir, "tampered.txt"), "tamper": true},
		{"name": "late.txt", "type": "text/plain", "path": filepath.Join(dir, "late.txt"), "late": true},
		{"name": "large.png", "type": "image/png", "path": filepath.Join(dir, "large.png")},
	})
	casesFile := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(casesFile, cases, 0o644); err != nil {
		t.Fatal(err)
	}
	type pageCase struct {
		States   []string `json:"states"`
		Progress float64  `json:"progress"`
		Sent     string   `json:"sent"`
		Problem  string   `json:"problem"`
		Log      string   `json:"log"`
		Download string   `json:"download"`
	}
	var results struct {
		Cases  map[string]pageCase `json:"cases"`
		Recent []struct {
			File     string `json:"file"`
			Status   string `json:"status"`
			Download bool   `json:"download"`
		} `json:"recent"`
	}
	runPageScript(t, "uploads_page.cjs", &results,
		"PAGE_URL="+uploads.url(t)+"/.web/uploads/",
		"TOKEN="+st.token(t, "uploader-browser-"+randomHex(4), nil),
		"CASES="+casesFile,
		"SCREENSHOT="+screenshot(t, "uploads-page"),
	)

	big := results.Cases["large.png"]
	if !slices.Contains(big.States, "PENDING") || slices.Index(big.States, "UPLOADING") > slices.Index(big.States, "PENDING") || slices.Index(big.States, "PENDING") > slices.Index(big.States, "AVAILABLE") {
		t.Fatalf("large.png states = %v; want UPLOADING, PENDING, then AVAILABLE (log: %s)", big.States, big.Log)
	}
	if last := big.States[len(big.States)-1]; last != "AVAILABLE" || big.Download == "" {
		t.Errorf("large.png ended %s with download %q; want AVAILABLE with a link (log: %s)", last, big.Download, big.Log)
	}
	if big.Progress != 100 || !strings.HasPrefix(big.Sent, "20.0 MB of 20.0 MB (100%)") {
		t.Errorf("large.png progress %v, %q; want 100 and 20.0 MB of 20.0 MB (100%%)", big.Progress, big.Sent)
	}
	faked := results.Cases["fake.png"]
	if len(faked.States) == 0 || faked.States[len(faked.States)-1] != "REJECTED" || !strings.Contains(faked.Log, "image/png") || faked.Download != "" {
		t.Errorf("fake.png states = %v, log %q, download %q; want REJECTED for its content and no link", faked.States, faked.Log, faked.Download)
	}
	tampered := results.Cases["tampered.txt"]
	if len(tampered.States) == 0 || tampered.States[len(tampered.States)-1] != "REFUSED" ||
		!strings.Contains(tampered.Problem, "does not match the checksum") || !strings.Contains(tampered.Problem, "BadDigest") {
		t.Errorf("tampered.txt states = %v, problem %q; want REFUSED, said in words with S3's BadDigest underneath", tampered.States, tampered.Problem)
	}

	late := results.Cases["late.txt"]
	if len(late.States) == 0 || late.States[len(late.States)-1] != "REFUSED" ||
		!strings.Contains(late.Problem, "link has expired") || !strings.Contains(late.Problem, "S3: 403") {
		t.Errorf("late.txt states = %v, problem %q; want REFUSED, said in words with S3's 403 underneath", late.States, late.Problem)
	}

	want := map[string]string{"large.png": "AVAILABLE", "fake.png": "REJECTED", "tampered.txt": "PENDING", "late.txt": "PENDING"}
	got := map[string]string{}
	for _, r := range results.Recent {
		status, _, _ := strings.Cut(r.Status, ":")
		got[r.File] = status
		if r.Download != (status == "AVAILABLE") {
			t.Errorf("recent %s %s has a download button: %v; want one for AVAILABLE only", r.File, r.Status, r.Download)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("recent uploads = %v; want %v", got, want)
	}
}

// TestUploadListShowsTheCallersOwn: GET /uploads lists the caller's uploads, newest first, with
// their states as the verifier decided them, and never another user's.
func TestUploadListShowsTheCallersOwn(t *testing.T) {
	token := st.token(t, "uploader-list-"+randomHex(4), nil)
	other := st.token(t, "uploader-list-other-"+randomHex(4), nil)
	good := pngBody(1024)
	first := declare(t, token, "first.png", "image/png", good, "")
	if code, body := put(t, first, good, nil); code != http.StatusOK {
		t.Fatalf("PUT = %d %s", code, body)
	}
	waitVerified(t, token, first.UploadID)
	time.Sleep(1100 * time.Millisecond) // createdAt orders the list to the second
	fake := []byte("not a picture\n")
	second := declare(t, token, "second.png", "image/png", fake, "")
	if code, body := put(t, second, fake, nil); code != http.StatusOK {
		t.Fatalf("PUT = %d %s", code, body)
	}
	waitVerified(t, token, second.UploadID)
	declare(t, other, "theirs.png", "image/png", good, "")

	type listed struct {
		Uploads []struct {
			UploadID string `json:"uploadId"`
			Status   string `json:"status"`
			FileName string `json:"fileName"`
			Reason   string `json:"reason"`
		} `json:"uploads"`
	}
	var l listed
	// The index trails the table by a moment: wait for both decisions to show.
	eventually(t, 10*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := uploads.call(t, "GET", "/uploads", token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /uploads = %d %s; want 200", r.status, r.body)
		}
		l = listed{}
		r.json(t, &l)
		return len(l.Uploads) == 2 && l.Uploads[0].Status == "REJECTED" && l.Uploads[1].Status == "AVAILABLE", fmt.Sprintf("list %+v", l)
	})
	if l.Uploads[0].UploadID != second.UploadID || l.Uploads[0].FileName != "second.png" || l.Uploads[0].Reason == "" || l.Uploads[1].UploadID != first.UploadID {
		t.Errorf("list = %+v; want second.png (REJECTED, with its reason), then first.png", l)
	}
	wantProblem(t, uploads.call(t, "GET", "/uploads?limit=5", token, ""), http.StatusBadRequest)
}
