package uploads

import (
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

// BenchmarkSniff measures the content check on the 512 bytes the verifier reads.
func BenchmarkSniff(b *testing.B) {
	head := make([]byte, SniffBytes)
	n := copy(head, "id,name,amount\n1,alice,12.50\n")
	for i := n; i < len(head); i++ {
		head[i] = 'a' + byte(i%26)
	}
	for b.Loop() {
		if !Sniff("text/csv", head) {
			b.Fatal("not text")
		}
	}
}
