package s3objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/clock"
)

// API is the part of the S3 client the object reader calls.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Objects reads import files from S3.
type Objects struct {
	S3 API
	// Calls bounds HeadObject by its Timeout and the invocation's remaining time minus its margin.
	// A GetObject body is read for as long as the invocation runs, so Open is bounded by the
	// invocation's own context only.
	Calls budget.Calls
}

// Head returns the current version of an object; imports.ErrObjectNotFound when there is none.
func (o Objects) Head(ctx context.Context, bucket, key string) (imports.Object, error) {
	ctx, cancel := o.Calls.Context(ctx)
	defer cancel()
	out, err := o.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return imports.Object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, objectError(err))
	}
	return imports.Object{Bucket: bucket, Key: key, ETag: imports.NormalizeETag(aws.ToString(out.ETag)), Size: aws.ToInt64(out.ContentLength)}, nil
}

// Open streams length bytes of the object from byte offset with one Range GET, only while its
// ETag is still etag: a file replaced mid-import fails the import instead of mixing two versions.
// The range is bounded: S3 sends what was asked for, not the rest of the file.
func (o Objects) Open(ctx context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error) {
	out, err := o.S3.GetObject(ctx, &s3.GetObjectInput{
		Bucket:  aws.String(bucket),
		Key:     aws.String(key),
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)),
		IfMatch: aws.String(`"` + imports.NormalizeETag(etag) + `"`),
	})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s bytes %d-%d: %w", bucket, key, offset, offset+length-1, objectError(err))
	}
	return out.Body, nil
}

// objectError maps S3's answers for a missing or changed object to domain errors, keeping the
// SDK's error for the logs. S3 says "no such object" with a 404: NoSuchKey for a GET, NotFound
// for a HEAD (which has no body to name an error); a failed If-Match is a 412. The typed errors
// and the codes alone are recognised too, as a test double or a wrapper may hand over only
// those. A 403 is not "missing": without s3:ListBucket on the bucket S3 answers 403 for a
// missing key, but it answers 403 for a denied request too, and only a retry (after the policy
// is fixed) can tell them apart.
func objectError(err error) error {
	switch {
	case objectMissing(err):
		return fmt.Errorf("%w: %w", imports.ErrObjectNotFound, err)
	case objectChanged(err):
		return fmt.Errorf("%w: %w", imports.ErrObjectChanged, err)
	}
	return err
}

func objectMissing(err error) bool {
	var noSuchKey *types.NoSuchKey
	var notFound *types.NotFound
	return errors.As(err, &noSuchKey) || errors.As(err, &notFound) ||
		httpStatus(err) == http.StatusNotFound || errorCode(err) == "NoSuchKey" || errorCode(err) == "NotFound"
}

func objectChanged(err error) bool {
	return httpStatus(err) == http.StatusPreconditionFailed || errorCode(err) == "PreconditionFailed"
}

// httpStatus is the status of the HTTP response an SDK error carries, 0 without one.
func httpStatus(err error) int {
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}

// errorCode is the service's error code an SDK error carries (smithy.APIError), "" without one.
func errorCode(err error) string {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// PresignAPI is the part of the S3 presign client the upload signer calls (*s3.PresignClient).
type PresignAPI interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Uploads signs PUTs of import files: a caller with no AWS credentials uploads straight to S3,
// and the bucket's notification starts the import.
type Uploads struct {
	Presign PresignAPI
	Bucket  string
	Expires time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Sign signs a PUT to key of exactly size bytes of contentType, valid for Expires. The signature
// covers Content-Length and Content-Type, so S3 refuses a body of any other length or type: the
// size a caller declared (and the API checked) is the size stored. Signing is local; it calls
// nothing.
func (u Uploads) Sign(ctx context.Context, key string, size int64, contentType string) (imports.SignedUpload, error) {
	req, err := u.Presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(u.Bucket),
		Key:           aws.String(key),
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType),
	}, s3.WithPresignExpires(u.Expires))
	if err != nil {
		return imports.SignedUpload{}, fmt.Errorf("sign PUT of s3://%s/%s: %w", u.Bucket, key, err)
	}
	return imports.SignedUpload{Key: key, URL: req.URL, Method: req.Method, Header: req.SignedHeader, ExpiresAt: clock.Now(u.Now).Add(u.Expires).UTC()}, nil
}
