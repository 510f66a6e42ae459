package s3objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/go-serverless/reference/services/uploads/internal/uploads"
	"github.com/go-serverless/reference/shared/budget"
)

// PendingTag is the object tag every signed PUT must carry; Keep removes it. The bucket's
// lifecycle rule expires objects that still have it, so an object never verified AVAILABLE
// (its verification failed every retry) goes away by itself. A PUT repeated with the same URL
// after the decision tags the object again; the verifier then keeps it again (see Verify).
const PendingTag = "upload=pending"

// API is the part of the S3 client the object store calls.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjectTagging(ctx context.Context, in *s3.DeleteObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectTaggingOutput, error)
}

// PresignAPI is the part of the S3 presign client the signer calls (*s3.PresignClient).
type PresignAPI interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Objects signs requests for, and inspects, objects in the uploads bucket.
type Objects struct {
	S3      API
	Presign PresignAPI
	Bucket  string
	// Calls bounds each call by the invocation's remaining time minus its margin.
	Calls budget.Calls
}

// SignPut signs a PUT whose signature covers Content-Length, Content-Type, x-amz-checksum-sha256
// and the pending tag: S3 refuses any other size, type, body or tag. Signing is local; it calls
// nothing. The headers returned are the ones a client must set (Host and Content-Length are set
// by every HTTP client from the URL and the body).
func (o Objects) SignPut(ctx context.Context, key string, in uploads.Request, expires time.Duration) (uploads.SignedRequest, error) {
	req, err := o.Presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(o.Bucket),
		Key:            aws.String(key),
		ContentLength:  aws.Int64(in.Size),
		ContentType:    aws.String(in.ContentType),
		ChecksumSHA256: aws.String(in.SHA256),
		Tagging:        aws.String(PendingTag),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		return uploads.SignedRequest{}, fmt.Errorf("presign put %s: %w", key, err)
	}
	headers := map[string]string{}
	for name, values := range req.SignedHeader {
		if len(values) == 0 || name == "Host" || name == "Content-Length" {
			continue
		}
		headers[http.CanonicalHeaderKey(name)] = values[0]
	}
	return uploads.SignedRequest{Method: req.Method, URL: req.URL, Headers: headers}, nil
}

// SignGet signs a GET that downloads the object as an attachment named fileName (so a browser
// never renders it inline under the bucket's origin) with the declared content type.
func (o Objects) SignGet(ctx context.Context, key, fileName, contentType string, expires time.Duration) (uploads.SignedRequest, error) {
	req, err := o.Presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(o.Bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": fileName})),
		ResponseContentType:        aws.String(contentType),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		return uploads.SignedRequest{}, fmt.Errorf("presign get %s: %w", key, err)
	}
	return uploads.SignedRequest{Method: req.Method, URL: req.URL, Headers: map[string]string{}}, nil
}

// Head returns the object's size, type and stored SHA-256 (ChecksumMode ENABLED).
func (o Objects) Head(ctx context.Context, key string) (uploads.ObjectInfo, error) {
	ctx, cancel := o.Calls.Context(ctx)
	defer cancel()
	out, err := o.S3.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return uploads.ObjectInfo{}, fmt.Errorf("head %s: %w", key, notFoundOr(err))
	}
	return uploads.ObjectInfo{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), SHA256: aws.ToString(out.ChecksumSHA256)}, nil
}

// ReadHead returns up to n bytes from the start of the object with a ranged GET.
func (o Objects) ReadHead(ctx context.Context, key string, n int) ([]byte, error) {
	ctx, cancel := o.Calls.Context(ctx)
	defer cancel()
	out, err := o.S3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	if err != nil {
		return nil, fmt.Errorf("get start of %s: %w", key, notFoundOr(err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("read start of %s: %w", key, err)
	}
	return data, nil
}

// maxStreamTime bounds reading a whole object when the context has no deadline: Lambda's
// longest invocation. Inside an invocation, its deadline minus the margin comes first.
const maxStreamTime = 15 * time.Minute

// Open streams the whole object. A body of up to the upload limit can take longer to read than
// one call's Timeout, so the GET and the reading of its body are bounded together by the
// invocation's deadline minus Calls.Budget.Margin, until Close.
func (o Objects) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	ctx, cancel := o.Calls.Budget.Context(ctx, maxStreamTime)
	out, err := o.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("get %s: %w", key, notFoundOr(err))
	}
	return cancelOnClose{ReadCloser: out.Body, cancel: cancel}, nil
}

// cancelOnClose ends the context of a streamed GET when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// Delete removes the object. Deleting a missing object succeeds: S3 answers 204 for one, and a
// store that answers 404 NoSuchKey instead has done what was asked all the same; a verification
// retried after it deleted the object must be able to finish.
func (o Objects) Delete(ctx context.Context, key string) error {
	ctx, cancel := o.Calls.Context(ctx)
	defer cancel()
	_, err := o.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
	if err != nil && !errors.Is(notFoundOr(err), uploads.ErrObjectNotFound) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Keep removes the pending tag, taking the object out of the lifecycle rule that expires
// unverified uploads.
func (o Objects) Keep(ctx context.Context, key string) error {
	ctx, cancel := o.Calls.Context(ctx)
	defer cancel()
	if _, err := o.S3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("untag %s: %w", key, err)
	}
	return nil
}

// notFoundOr turns S3's "no such object" (NotFound from HEAD, NoSuchKey from GET) into uploads.ErrObjectNotFound.
func notFoundOr(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey") {
		return uploads.ErrObjectNotFound
	}
	return err
}
