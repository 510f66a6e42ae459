package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The imports pattern end to end: a signed PUT of a file under imports/{sub}/, S3's notification
// and POST /imports converging on one import, a chain of ProcessImportFunction invocations
// through Lambda's asynchronous Invoke API, and the owner's GET. Locally the chain hands over
// every 1,000 lines (ImportMaxLinesPerInvocation in infra/local/parameters.json), so a few
// thousand lines make a chain of several invocations.

// imports is the service this file tests: its tests call its API and name its functions through it.
const imports service = "Imports"

// importGrant is the answer to POST /imports/uploads.
type importGrant struct {
	Key     string            `json:"key"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// importView is the answer to GET /imports/{id}.
type importView struct {
	ImportID    string `json:"importId"`
	Status      string `json:"status"`
	BytesDone   int64  `json:"bytesDone"`
	BytesTotal  int64  `json:"bytesTotal"`
	LinesDone   int64  `json:"linesDone"`
	Accepted    int64  `json:"accepted"`
	Rejected    int64  `json:"rejected"`
	Invocations int    `json:"invocations"`
	Failure     string `json:"failure"`
	Rejects     []struct {
		Line   int64  `json:"line"`
		Reason string `json:"reason"`
	} `json:"rejects"`
}

// uploadImportFile asks for a signed PUT of fileName and uploads body; it returns the key and
// the ETag S3 answered.
func uploadImportFile(t *testing.T, token, fileName string, body []byte) (key, etag string) {
	t.Helper()
	r := imports.call(t, "POST", "/imports/uploads", token, fmt.Sprintf(`{"fileName":%q,"size":%d}`, fileName, len(body)))
	if r.status != http.StatusCreated {
		t.Fatalf("POST /imports/uploads = %d %s; want 201", r.status, r.body)
	}
	var g importGrant
	r.json(t, &g)
	req, err := http.NewRequest(g.Method, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range g.Headers {
		req.Header.Set(name, value)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT to S3: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT to S3 = %d %s; want 200", resp.StatusCode, answer)
	}
	return g.Key, strings.Trim(resp.Header.Get("ETag"), `"`)
}

// importID is the id the service derives from bucket, key and ETag (imports.ID), so a test can
// find an import that only S3's notification started.
func importID(bucket, key, etag string) string {
	sum := sha256.Sum256([]byte(bucket + "\n" + key + "\n" + etag))
	return hex.EncodeToString(sum[:16])
}

// waitImport polls GET /imports/{id} until the import is no longer RUNNING (or does not exist yet).
func waitImport(t *testing.T, token, id string) importView {
	t.Helper()
	defer logsOnFailure(t, "Import")()
	var v importView
	eventually(t, 90*time.Second, 300*time.Millisecond, func() (bool, string) {
		r := imports.call(t, "GET", "/imports/"+id, token, "")
		if r.status == http.StatusNotFound {
			return false, "import " + id + " not started" // the notification has not started it yet
		}
		if r.status != http.StatusOK {
			t.Fatalf("GET /imports/%s = %d %s; want 200", id, r.status, r.body)
		}
		v = importView{}
		r.json(t, &v)
		if v.Status == "RUNNING" && r.header.Get("Retry-After") == "" {
			t.Errorf("RUNNING import answered without Retry-After")
		}
		return v.Status != "RUNNING", fmt.Sprintf("import %s still RUNNING at line %d", id, v.LinesDone)
	})
	return v
}

// importFile returns n lines of CSV orders with a header, where the lines in bad are malformed.
func importFile(n int, bad map[int]bool) []byte {
	var b strings.Builder
	b.WriteString("id,customer,amount,currency\n")
	for line := 2; line <= n; line++ {
		if bad[line] {
			fmt.Fprintf(&b, "o-%d,Zoë,12.50,EUR\n", line)
			continue
		}
		fmt.Fprintf(&b, "o-%d,Zoë 日本 %d,%d,EUR\n", line, line, line*3)
	}
	return []byte(b.String())
}

func TestImportChainsThroughSeveralInvocations(t *testing.T) {
	token := st.token(t, "import-alice-"+randomHex(4), nil)
	bad := map[int]bool{10: true, 1500: true, 2400: true}
	body := importFile(2600, bad) // header + 2,599 orders, 3 of them malformed
	key, _ := uploadImportFile(t, token, "orders.csv", body)

	// The notification has started (or is starting) the import; POST names the same one.
	r := imports.call(t, "POST", "/imports", token, fmt.Sprintf(`{"key":%q}`, key))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /imports = %d %s; want 202", r.status, r.body)
	}
	var started struct {
		ImportID string `json:"importId"`
	}
	r.json(t, &started)
	if r.header.Get("Location") != "/imports/"+started.ImportID {
		t.Errorf("Location = %q; want /imports/%s", r.header.Get("Location"), started.ImportID)
	}
	again := imports.call(t, "POST", "/imports", token, fmt.Sprintf(`{"key":%q}`, key))
	var second struct {
		ImportID string `json:"importId"`
	}
	again.json(t, &second)
	if second.ImportID != started.ImportID {
		t.Errorf("a second POST started import %s; want the same %s", second.ImportID, started.ImportID)
	}

	v := waitImport(t, token, started.ImportID)
	if v.Status != "SUCCEEDED" || v.Accepted != 2596 || v.Rejected != 3 || v.LinesDone != 2600 || v.BytesDone != int64(len(body)) || v.BytesTotal != int64(len(body)) {
		t.Fatalf("import = %+v; want SUCCEEDED, 2596 accepted, 3 rejected, 2600 lines, all %d bytes", v, len(body))
	}
	t.Logf("import %s: %d lines, %d bytes in %d invocations", v.ImportID, v.LinesDone, v.BytesDone, v.Invocations)
	var rejected []int64
	for _, rej := range v.Rejects {
		rejected = append(rejected, rej.Line)
	}
	if fmt.Sprint(rejected) != "[10 1500 2400]" {
		t.Errorf("rejects %+v; want lines 10, 1500 and 2400", v.Rejects)
	}
	if st.logs != nil && v.Invocations < 3 {
		t.Errorf("%d invocations; want at least 3 (the local stack hands over every 1,000 lines)", v.Invocations)
	}
	// Every valid line is in the table exactly once: as many items as accepted lines.
	if n := countImported(t, started.ImportID); n != v.Accepted {
		t.Errorf("%d orders in %s; want %d", n, st.outputs["ImportedOrdersTableName"], v.Accepted)
	}

	// Nobody else sees it.
	other := st.token(t, "import-mallory-"+randomHex(4), nil)
	wantProblem(t, imports.call(t, "GET", "/imports/"+started.ImportID, other, ""), http.StatusNotFound)
}

func TestImportStartsFromTheS3NotificationAlone(t *testing.T) {
	token := st.token(t, "import-bob-"+randomHex(4), nil)
	body := []byte("{\"id\":\"o-1\",\"customer\":\"Bob\",\"amount\":100,\"currency\":\"USD\"}\n{\"id\":\"o-2\",\"customer\":\"Bob\",\"amount\":5}")
	key, etag := uploadImportFile(t, token, "orders.ndjson", body)
	id := importID(st.outputs["ImportsBucketName"], key, etag)

	v := waitImport(t, token, id)
	if v.Status != "SUCCEEDED" || v.Accepted != 1 || v.Rejected != 1 || len(v.Rejects) != 1 || v.Rejects[0].Line != 2 {
		t.Fatalf("import = %+v; want SUCCEEDED with line 1 accepted and line 2 (no currency) rejected", v)
	}
}

func TestImportBadRequestsChangeNothing(t *testing.T) {
	token := st.token(t, "import-carol-"+randomHex(4), nil)
	sub := subject(t, token) // the caller's prefix is imports/{sub}/: the user name locally, a UUID on Cognito
	tests := []struct {
		name, path, body string
		status           int
		param            string
	}{
		{"someone else's prefix", "/imports", `{"key":"imports/someone-else/orders.csv"}`, 400, "key"},
		{"outside imports/", "/imports", `{"key":"uploads/` + sub + `/orders.csv"}`, 400, "key"},
		{"unsupported type", "/imports", `{"key":"imports/` + sub + `/orders.xlsx"}`, 400, "key"},
		{"unknown field", "/imports", `{"key":"imports/` + sub + `/a.csv","force":true}`, 400, "force"},
		{"path in file name", "/imports/uploads", `{"fileName":"../b/orders.csv"}`, 400, "fileName"},
		{"unsupported upload type", "/imports/uploads", `{"fileName":"orders.exe"}`, 400, "fileName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wantProblem(t, imports.call(t, "POST", tt.path, token, tt.body), tt.status)
			if len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.param {
				t.Errorf("invalid-params = %+v; want %s named", p.InvalidParams, tt.param)
			}
		})
	}
	wantProblem(t, imports.call(t, "GET", "/imports/00000000000000000000000000000000", token, ""), http.StatusNotFound)
}

// TestImportOfAFileThatIsNotThere asks for an import of a key under the caller's own prefix where
// nothing was uploaded: 422, the file is not there. CreateImportFunction's HeadObject gets S3's
// 404 only if its role has s3:ListBucket on ImportsBucket; without it S3 answers 403 (so that the
// caller learns nothing about keys it may not list), which is not "no such file" but a failure:
// the answer is 500.
func TestImportOfAFileThatIsNotThere(t *testing.T) {
	token := st.token(t, "import-erin-"+randomHex(4), nil)
	key := "imports/" + subject(t, token) + "/never-uploaded.csv"
	defer logsOnFailure(t, "CreateImportFunction", key)()
	p := wantProblem(t, imports.call(t, "POST", "/imports", token, fmt.Sprintf(`{"key":%q}`, key)), http.StatusUnprocessableEntity)
	if p.Title != "No such file" || len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != "key" {
		t.Errorf("problem = %+v; want 'No such file' naming the key", p)
	}
}

// TestImportWhoseFileIsDeletedMidChainFailsAtOnce deletes the file while its import is running:
// the next link's Range GET finds no object, and ProcessImportFunction records the import FAILED
// itself, with its own reason, at once: no retry can make a deleted file readable. It runs only
// locally, where the chain hands over every 1,000 lines (ImportMaxLinesPerInvocation); on AWS one
// invocation reads this file whole.
//
// ProcessImportFunction's GetObject gets S3's 404 only if its role has s3:ListBucket on
// ImportsBucket; without it S3 answers 403, which the processor cannot tell from an outage. It
// then fails the link, Lambda retries it twice, sends it to ImportsFailureQueue, and
// FailImportFunction records "the chain broke at byte ..." after 3 attempts: the test sees that
// reason instead of the processor's. (ImportsFailureQueue itself cannot be watched for this: its
// consumer empties it within a second. What passing through it leaves behind is the reason, and
// FailImportFunction's log lines.)
func TestImportWhoseFileIsDeletedMidChainFailsAtOnce(t *testing.T) {
	requireLocal(t)
	token := st.token(t, "import-frank-"+randomHex(4), nil)
	const lines = 60_000 // 60 links of 1,000 lines: tens of seconds, where the delete needs one link
	body := importFile(lines, nil)
	key, etag := uploadImportFile(t, token, "long.csv", body)
	bucket := st.outputs["ImportsBucketName"]
	id := importID(bucket, key, etag)
	defer logsOnFailure(t, id)()

	// Delete the file as soon as the chain is under way: an invocation has claimed the import and
	// checkpointed a batch, so it holds the file open and the link after it will find it gone.
	tooSmall := fmt.Sprintf("the import of %d lines (%d bytes) ended before the test could delete its file: make the file bigger", lines, len(body))
	var running importView
	eventually(t, 60*time.Second, 50*time.Millisecond, func() (bool, string) {
		r := imports.call(t, "GET", "/imports/"+id, token, "")
		if r.status == http.StatusNotFound {
			return false, "import " + id + " not started"
		}
		if r.status != http.StatusOK {
			t.Fatalf("GET /imports/%s = %d %s; want 200", id, r.status, r.body)
		}
		running = importView{}
		r.json(t, &running)
		if running.Status != "RUNNING" {
			t.Fatalf("%s (it is %s)", tooSmall, running.Status)
		}
		return running.Invocations >= 1 && running.LinesDone > 0, "import " + id + " has no batch done yet"
	})
	if _, err := st.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("delete s3://%s/%s: %v", bucket, key, err)
	}
	deleted := time.Now()
	t.Logf("deleted the file at line %d of %d, after %d invocations", running.LinesDone, lines, running.Invocations)

	v := waitImport(t, token, id)
	took := time.Since(deleted)
	if v.Status == "SUCCEEDED" {
		t.Fatalf("%s (it SUCCEEDED after %d invocations: the last one had the file open before the delete)", tooSmall, v.Invocations)
	}
	if v.Status != "FAILED" || !strings.Contains(v.Failure, "the file was deleted before the import finished") {
		t.Fatalf("import = %s %q; want FAILED by ProcessImportFunction: the file was deleted", v.Status, v.Failure)
	}
	if strings.Contains(v.Failure, "the chain broke") || v.LinesDone >= lines {
		t.Errorf("import = %+v; want it stopped where the file went missing, not by FailImportFunction", v)
	}
	// At once: the link that had the file open finishes, and the next one (or the one after, if
	// that had opened the file too) fails on its first attempt. Each retry of a link is counted
	// as an invocation, so a link that went through Lambda's 3 attempts shows here.
	if v.Invocations > running.Invocations+2 {
		t.Errorf("%d invocations after the delete at invocation %d; want at most 2 more (no retries of the failing link)", v.Invocations, running.Invocations)
	}
	if handled := st.logs.Matching("FailImportFunction]", id); len(handled) > 0 {
		t.Errorf("FailImportFunction handled import %s: the failing link went through Lambda's retries and ImportsFailureQueue:\n%s", id, strings.Join(handled, "\n"))
	}
	t.Logf("FAILED %v after the delete, at line %d: %s", took.Round(time.Millisecond), v.LinesDone, v.Failure)
}

// countImported counts the order items of an import with a consistent query.
func countImported(t *testing.T, id string) int64 {
	t.Helper()
	var n int64
	p := dynamodb.NewQueryPaginator(st.dynamodb, &dynamodb.QueryInput{
		TableName:                 aws.String(st.outputs["ImportedOrdersTableName"]),
		KeyConditionExpression:    aws.String("importId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
		Select:                    types.SelectCount,
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("count imported orders: %v", err)
		}
		n += int64(page.Count)
	}
	return n
}

func TestImportWhoseChainBreaksEndsFailed(t *testing.T) {
	// A link that fails every attempt: the import record says the file is longer than it is, so
	// the Range GET at its checkpoint is refused (416) on every attempt. Lambda's asynchronous
	// invoke retries it twice, sends it to ImportsFailureQueue, and FailImportFunction records
	// where the chain broke. Nothing done to the file in S3 leads there: the chain reads with
	// If-Match on the ETag the import started with, so a file replaced or deleted mid-chain fails
	// the import at once ("the file was deleted/replaced before the import finished"), without
	// retries or the failure queue.
	// So the record is written straight to the table before the upload (its id is derived from
	// the content's MD5, the ETag of a single PUT), which the local stack allows.
	requireLocal(t)
	token := st.token(t, "import-dave-"+randomHex(4), nil)
	owner := subject(t, token)
	body := []byte("o-1,Dave,1,EUR\n")
	sum := md5.Sum(body)
	key := "imports/" + owner + "/broken.csv"
	id := importID(st.outputs["ImportsBucketName"], key, hex.EncodeToString(sum[:]))
	now := time.Now().UTC().Format(time.RFC3339)
	item := map[string]types.AttributeValue{
		"importId": &types.AttributeValueMemberS{Value: id}, "owner": &types.AttributeValueMemberS{Value: owner},
		"bucket": &types.AttributeValueMemberS{Value: st.outputs["ImportsBucketName"]}, "key": &types.AttributeValueMemberS{Value: key},
		"etag": &types.AttributeValueMemberS{Value: hex.EncodeToString(sum[:])}, "format": &types.AttributeValueMemberS{Value: "csv"},
		"status": &types.AttributeValueMemberS{Value: "RUNNING"}, "size": &types.AttributeValueMemberN{Value: "1000"},
		"offset": &types.AttributeValueMemberN{Value: "500"}, "line": &types.AttributeValueMemberN{Value: "20"},
		"accepted": &types.AttributeValueMemberN{Value: "20"}, "rejected": &types.AttributeValueMemberN{Value: "0"},
		"depth": &types.AttributeValueMemberN{Value: "0"}, "invocations": &types.AttributeValueMemberN{Value: "0"},
		"createdAt": &types.AttributeValueMemberS{Value: now}, "updatedAt": &types.AttributeValueMemberS{Value: now},
		"expiresAt": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(time.Hour).Unix())},
	}
	if _, err := st.dynamodb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(st.outputs["ImportsTableName"]), Item: item}); err != nil {
		t.Fatal(err)
	}
	// The upload's notification finds the import not yet claimed and sends its first link.
	if _, etag := uploadImportFile(t, token, "broken.csv", body); importID(st.outputs["ImportsBucketName"], key, etag) != id {
		t.Fatalf("ETag %s is not the MD5 of the body; the test cannot predict the import id", etag)
	}

	v := waitImport(t, token, id)
	if v.Status != "FAILED" || !strings.Contains(v.Failure, "the import chain broke at byte 500 (line 20)") {
		t.Fatalf("import = %s %q; want FAILED where the chain broke, after Lambda's 3 attempts", v.Status, v.Failure)
	}
	// The failure is a sentence for the caller: Lambda's account of it (the last error, the
	// condition) goes to FailImportFunction's log, never to the API.
	for _, internal := range []string{"RetriesExhausted", "s3://", "RequestID", "api error", st.outputs["ImportsBucketName"]} {
		if strings.Contains(v.Failure, internal) {
			t.Errorf("failure %q shows %q; want no internal detail", v.Failure, internal)
		}
	}
	if v.Invocations != 3 || v.Accepted != 20 {
		t.Errorf("%d invocations, %d accepted; want the 3 attempts counted and nothing more accepted", v.Invocations, v.Accepted)
	}
}

// TestImportWebPageInHeadlessChromium is what a new user does with `make run`: open the printed
// pages URL, follow it to the imports page, mint a token, and import a 20,000-line CSV, watching
// the upload's progress and then the chain of invocations go by. The page shows every hop of the
// chain (locally the chain hands over every ImportMaxLinesPerInvocation lines, from
// infra/local/parameters.json), the counts, and the first rejected lines with their reasons.
func TestImportWebPageInHeadlessChromium(t *testing.T) {
	requireLocal(t) // the pages and the token endpoint exist in the local runner only
	const lines = 20_000
	bad := map[int]bool{10: true, 1500: true, 2400: true, 19_999: true}
	body := importFile(lines, bad) // header + 19,999 orders, 4 of them malformed
	file := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	perHop := localMaxLinesPerInvocation(t)
	var page struct {
		States         []string `json:"states"`
		MarksSeen      []int    `json:"marksSeen"`
		UploadProgress float64  `json:"uploadProgress"`
		ImportProgress float64  `json:"importProgress"`
		Accepted       string   `json:"accepted"`
		Rejected       string   `json:"rejected"`
		Lines          string   `json:"lines"`
		Invocations    string   `json:"invocations"`
		Problem        string   `json:"problem"`
		Hops           []struct {
			Hop   int    `json:"hop"`
			Label string `json:"label"`
			Retry bool   `json:"retry"`
		} `json:"hops"`
		Rejects       [][]string `json:"rejects"`
		TokenShared   bool       `json:"tokenShared"`
		WithoutRunner string     `json:"withoutRunner"`
	}
	runPageScript(t, "imports_page.cjs", &page,
		"PAGE_URL="+st.pagesURL,
		"USER=import-page-"+randomHex(4),
		"FILE="+file,
		"SCREENSHOT="+screenshot(t, "imports-page"),
	)

	if len(page.States) == 0 || page.States[len(page.States)-1] != "SUCCEEDED" || !slices.Contains(page.States, "RUNNING") {
		t.Fatalf("states = %v (problem %q); want RUNNING, then SUCCEEDED", page.States, page.Problem)
	}
	if page.UploadProgress != 100 || page.ImportProgress != 100 {
		t.Errorf("upload progress %v, import progress %v; want both 100", page.UploadProgress, page.ImportProgress)
	}
	if page.Accepted != "19,995" || page.Rejected != "4" || page.Lines != "20,000" {
		t.Errorf("accepted %s, rejected %s, lines %s; want 19,995, 4, 20,000", page.Accepted, page.Rejected, page.Lines)
	}
	// Every invocation reads perHop lines before it hands over, so the chain has one hop per
	// perHop lines; a retried hop (none expected) would show again under its number.
	hops := map[int]bool{}
	for _, h := range page.Hops {
		hops[h.Hop] = true
	}
	if want := (lines + perHop - 1) / perHop; len(hops) != want || len(hops) < 2 {
		t.Errorf("the strip shows hops %v; want %d, one per %d lines", page.Hops, want, perHop)
	}
	if len(page.Hops) > 0 && !strings.HasPrefix(page.Hops[0].Label, "hop 0: bytes 0–") {
		t.Errorf("first mark labelled %q; want hop 0 from byte 0", page.Hops[0].Label)
	}
	var rejected []string
	for _, r := range page.Rejects {
		rejected = append(rejected, r[0])
		if len(r) != 2 || !strings.Contains(r[1], "not a whole number") {
			t.Errorf("reject row %q; want the line and why", r)
		}
	}
	if fmt.Sprint(rejected) != "[10 1500 2400 19999]" {
		t.Errorf("rejects shown for lines %v; want 10, 1500, 2400 and 19999", rejected)
	}
	if !strings.Contains(page.WithoutRunner, "paste one instead") {
		t.Errorf("where /.web/token answers 404 the page said %q; want it to ask for a pasted token", page.WithoutRunner)
	}
	if !page.TokenShared {
		t.Errorf("the page, opened again in the tab, did not have the minted token")
	}
	// The chain is watched as it goes: the strip grew while the import ran, not only at its end.
	t.Logf("marks on the strip, each time the page redrew it: %v", page.MarksSeen)
	if !slices.ContainsFunc(page.MarksSeen, func(n int) bool { return n > 0 && n < len(page.Hops) }) {
		t.Errorf("the strip showed %v marks as it changed; want some of the %d drawn while the chain ran, before the last", page.MarksSeen, len(page.Hops))
	}
}

// localMaxLinesPerInvocation is ImportMaxLinesPerInvocation as the local stack runs it
// (infra/local/parameters.json; the template's default, 0, leaves it to the time left).
func localMaxLinesPerInvocation(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "infra", "local", "parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var params map[string]string
	if err := json.Unmarshal(data, &params); err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(params["ImportMaxLinesPerInvocation"])
	if err != nil || n <= 0 {
		t.Fatalf("ImportMaxLinesPerInvocation = %q in infra/local/parameters.json; want lines above 0", params["ImportMaxLinesPerInvocation"])
	}
	return n
}
