package imports

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/go-serverless/reference/services/imports/internal/s3test"
)

// TestSignedUploadStoresOnlyTheDeclaredFile PUTs to URLs Uploads signed, on versitygw: S3 must
// refuse a body of another length or Content-Type than the signed ones and store nothing, and
// accept the declared file sent with the headers the signature names.
func TestSignedUploadStoresOnlyTheDeclaredFile(t *testing.T) {
	client, bucket := s3test.Start(t)
	u := Uploads{Presign: s3.NewPresignClient(client), Bucket: bucket, Expires: time.Minute, Now: time.Now}
	const declared = "id,customer,amount,currency\no-1,Zoë,700,EUR\n"
	tests := []struct {
		name, body, contentType string
		wantStatus              int
	}{
		{name: "declared file", body: declared, contentType: "text/csv", wantStatus: http.StatusOK},
		{name: "longer", body: declared + "o-2,Bob,100,EUR\n", contentType: "text/csv", wantStatus: http.StatusForbidden},
		{name: "shorter", body: declared[:len(declared)-1], contentType: "text/csv", wantStatus: http.StatusForbidden},
		{name: "other content type", body: declared, contentType: "application/octet-stream", wantStatus: http.StatusForbidden},
		{name: "no content type", body: declared, wantStatus: http.StatusForbidden},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := "imports/alice/orders-" + string(rune('a'+i)) + ".csv"
			signed, err := u.Sign(ctx, key, int64(len(declared)), "text/csv")
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, signed.Method, signed.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for name, values := range signed.Header {
				if name != "Host" && name != "Content-Length" && !strings.EqualFold(name, "Content-Type") && len(values) > 0 {
					req.Header.Set(name, values[0])
				}
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("PUT: %v", err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("PUT = %d %s; want %d", resp.StatusCode, answer, tt.wantStatus)
			}
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if tt.wantStatus != http.StatusOK {
				if !errors.Is(objectError(err), ErrObjectNotFound) {
					t.Errorf("HeadObject after a refused PUT = %+v, %v; want no object stored", head, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got := aws.ToInt64(head.ContentLength); got != int64(len(declared)) || aws.ToString(head.ContentType) != "text/csv" {
				t.Errorf("stored %d bytes of %s; want %d of text/csv", got, aws.ToString(head.ContentType), len(declared))
			}
		})
	}
	signed, err := u.Sign(context.Background(), "imports/alice/orders.csv", 10, "text/csv")
	if err != nil {
		t.Fatal(err)
	}
	if signed.Header.Get("Content-Length") != "10" || signed.Header.Get("Content-Type") != "text/csv" {
		t.Errorf("signed headers %v; want Content-Length 10 and Content-Type text/csv among them", signed.Header)
	}
}
