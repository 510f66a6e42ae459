package s3objects

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
)

// validSHA256 is a well-formed x-amz-checksum-sha256; signing does not check it against a body.
const validSHA256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="

// BenchmarkSignPut measures what POST /uploads spends signing: presigning is local computation
// (no call to S3), so this is the whole S3 cost of the request.
func BenchmarkSignPut(b *testing.B) {
	client := s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	o := Objects{Presign: s3.NewPresignClient(client), Bucket: "bucket-for-benchmarks"}
	in := uploads.Request{FileName: "a.png", ContentType: "image/png", Size: 20 << 20, SHA256: validSHA256}
	ctx := context.Background()
	for b.Loop() {
		if _, err := o.SignPut(ctx, "uploads/alice/"+uploadID+"/a.png", in, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
