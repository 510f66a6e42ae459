package uploads

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkSignPut measures what POST /uploads spends signing: presigning is local computation
// (no call to S3), so this is the whole S3 cost of the request.
func BenchmarkSignPut(b *testing.B) {
	client := s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	o := S3Objects{Presign: s3.NewPresignClient(client), Bucket: "bucket-for-benchmarks"}
	in := Request{FileName: "a.png", ContentType: "image/png", Size: 20 << 20, SHA256: validSHA256}
	ctx := context.Background()
	for b.Loop() {
		if _, err := o.SignPut(ctx, "uploads/alice/"+uploadID+"/a.png", in, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckText measures the content check of a text upload, which reads the whole body:
// 1 MiB of CSV per op (b.SetBytes makes the result a throughput).
func BenchmarkCheckText(b *testing.B) {
	body := bytes.Repeat([]byte("id,name,amount\n1,Zoë Müller,12.50\n2,日本語,7\n"), 1<<20/48)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if reason, err := CheckText("text/csv", bytes.NewReader(body)); reason != "" || err != nil {
			b.Fatalf("CheckText = %q, %v; want text", reason, err)
		}
	}
}
