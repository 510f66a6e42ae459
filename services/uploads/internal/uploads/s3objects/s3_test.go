package s3objects

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
)

// The S3 adapter runs against versitygw, the S3 stand-in the local runner uses, because what
// matters is S3's behaviour: which headers a signature covers, what HEAD reports, what a missing
// object looks like.

const (
	versityKey    = "local"
	versitySecret = "local-secret-key"
	testBucket    = "uploads-test-bucket"
)

// uploadID and pngBytes make an upload as the domain's tests declare one: alice's PNG.
const uploadID = "0123456789abcdef0123456789abcdef"

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR rest of the image")

// sha is the base64 SHA-256 of body, as x-amz-checksum-sha256 carries it.
func sha(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// versitygw finds the stand-in's binary: $VERSITYGW, else .cache/standins/bin/versitygw in a
// parent directory. Missing, the test is skipped, or fails with REQUIRE_STANDINS=1.
func versitygw(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, ".cache", "standins", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	msg := "versitygw not found (run `make standins`, or set VERSITYGW)"
	if os.Getenv("REQUIRE_STANDINS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startVersity starts versitygw on a free port with a bucket, and returns a client for it.
func startVersity(t *testing.T) *s3.Client {
	t.Helper()
	bin := versitygw(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--port", addr, "--quiet", "--health", "/health", "posix", t.TempDir())
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+versityKey, "ROOT_SECRET_ACCESS_KEY="+versitySecret)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not become healthy: %v", err)
		}
	}
	// An IP-address endpoint makes the SDK use path-style addressing by itself (S3's endpoint
	// rules), which is why functions need no setting for it locally.
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(versityKey, versitySecret, ""),
		BaseEndpoint: aws.String("http://" + addr),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	return client
}

func send(t *testing.T, method string, signed uploads.SignedRequest, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, signed.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range signed.Headers {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func TestObjectsAgainstVersity(t *testing.T) {
	ctx := context.Background()
	client := startVersity(t)
	o := Objects{S3: client, Presign: s3.NewPresignClient(client), Bucket: testBucket}
	key := uploads.ObjectKey("alice", uploadID, "a.png")
	body := append(slices.Clone(pngBytes), bytes.Repeat([]byte{7}, 1000)...)
	in := uploads.Request{FileName: "a.png", ContentType: "image/png", Size: int64(len(body)), SHA256: sha(body)}

	signed, err := o.SignPut(ctx, key, in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(signed.URL)
	if got := u.Query().Get("X-Amz-SignedHeaders"); got != "content-length;content-type;host;x-amz-checksum-sha256;x-amz-tagging" {
		t.Errorf("signed headers = %q; want length, type, host, checksum and tag", got)
	}
	if signed.Headers["Content-Type"] != "image/png" || signed.Headers["X-Amz-Checksum-Sha256"] != in.SHA256 || signed.Headers["X-Amz-Tagging"] != PendingTag {
		t.Errorf("headers = %v; want Content-Type, X-Amz-Checksum-Sha256 and X-Amz-Tagging", signed.Headers)
	}
	if _, ok := signed.Headers["Host"]; ok {
		t.Errorf("headers include Host; a client sets it from the URL")
	}
	if resp, answer := send(t, http.MethodPut, signed, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed PUT = %d %s; want 200", resp.StatusCode, answer)
	}

	info, err := o.Head(ctx, key)
	if err != nil || info != (uploads.ObjectInfo{Size: int64(len(body)), ContentType: "image/png", SHA256: in.SHA256}) {
		t.Fatalf("Head = %+v, %v; want the declared size, type and checksum", info, err)
	}
	head, err := o.ReadHead(ctx, key, uploads.SniffBytes)
	if err != nil || !bytes.Equal(head, body[:uploads.SniffBytes]) {
		t.Fatalf("ReadHead = %d bytes, %v; want the first %d", len(head), err, uploads.SniffBytes)
	}
	whole, err := o.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	all, err := io.ReadAll(whole)
	whole.Close()
	if err != nil || !bytes.Equal(all, body) {
		t.Fatalf("Open read %d bytes, %v; want the whole body, %d", len(all), err, len(body))
	}
	tags, err := client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil || len(tags.TagSet) != 1 {
		t.Fatalf("tags before Keep = %v, %v; want the pending tag", tags, err)
	}
	if err := o.Keep(ctx, key); err != nil {
		t.Fatal(err)
	}
	tags, err = client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil || len(tags.TagSet) != 0 {
		t.Errorf("tags after Keep = %v, %v; want none", tags.TagSet, err)
	}

	// The signed URL works again until it expires (a client retrying after a lost 200): the
	// second PUT tags the object pending again, and a second Keep removes the tag again.
	if resp, answer := send(t, http.MethodPut, signed, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("repeated signed PUT = %d %s; want 200", resp.StatusCode, answer)
	}
	tags, err = client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "upload" || aws.ToString(tags.TagSet[0].Value) != "pending" {
		t.Fatalf("tags after the repeated PUT = %v, %v; want the pending tag back", tags, err)
	}
	for i := range 2 { // once for the repeated PUT, once more to show an untagged object is fine
		if err := o.Keep(ctx, key); err != nil {
			t.Fatalf("Keep %d after the repeated PUT: %v", i+1, err)
		}
		tags, err = client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		if err != nil || len(tags.TagSet) != 0 {
			t.Errorf("tags after Keep %d following the repeated PUT = %v, %v; want none", i+1, tags.TagSet, err)
		}
	}

	get, err := o.SignGet(ctx, key, "Ferien 2026.png", "image/png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, data := send(t, http.MethodGet, get, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, body) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("signed GET = %d, %d bytes, Content-Disposition %q; want 200, the body, an attachment", resp.StatusCode, len(data), resp.Header.Get("Content-Disposition"))
	}

	if err := o.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Head(ctx, key); !errors.Is(err, uploads.ErrObjectNotFound) {
		t.Errorf("Head after Delete = %v; want ErrObjectNotFound", err)
	}
	if _, err := o.ReadHead(ctx, key, uploads.SniffBytes); !errors.Is(err, uploads.ErrObjectNotFound) {
		t.Errorf("ReadHead after Delete = %v; want ErrObjectNotFound", err)
	}
	if _, err := o.Open(ctx, key); !errors.Is(err, uploads.ErrObjectNotFound) {
		t.Errorf("Open after Delete = %v; want ErrObjectNotFound", err)
	}
	if err := o.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing object = %v; want nil (S3 answers 204)", err)
	}
}
