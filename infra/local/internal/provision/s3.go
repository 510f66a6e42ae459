package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/infra/local/template"
)

// S3 is the part of the S3 API that provisioning calls.
type S3 interface {
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
}

// bucketProperties are the AWS::S3::Bucket properties a local bucket needs. Notifications are
// not among them: the runner turns the stand-in's webhook into S3 events.
type bucketProperties struct {
	BucketName string
}

func (p *provisioner) bucket(ctx context.Context, r template.Resource) error {
	if p.clients.S3 == nil {
		return errors.New("no S3 client")
	}
	var props bucketProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	name := props.BucketName
	if name == "" {
		// Bucket names must be lower case, unlike stack names and logical IDs.
		name = strings.ToLower(p.generatedName(r, maxBucketName))
	}
	// No CreateBucketConfiguration: the stand-in serves one region whatever the client's is,
	// and a location constraint it does not expect would only make creation fail.
	_, err := p.clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	b := Bucket{LogicalID: r.LogicalID, Name: name, ARN: "arn:" + template.Partition + ":s3:::" + name}
	p.out.Buckets[r.LogicalID] = b
	p.bindings.SetRef(r.LogicalID, b.Name)
	p.bindings.SetAtt(r.LogicalID, "Arn", b.ARN)
	p.bindings.SetAtt(r.LogicalID, "DomainName", b.Name+".s3."+template.URLSuffix)
	p.bindings.SetAtt(r.LogicalID, "RegionalDomainName", b.Name+".s3."+p.bindings.Region()+"."+template.URLSuffix)
	return nil
}
