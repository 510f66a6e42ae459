package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrUnsupported marks a request the classifier does not understand: an operation, path or
// sub-resource it has no rule for. The gateway refuses such a request (501) instead of forwarding
// it, since forwarding would allow it without a check.
var ErrUnsupported = errors.New("not understood by the local IAM gateway")

// ErrMalformed marks a request that lacks what its operation needs to be authorized (a table name,
// a queue URL, a body that is not JSON): the service would reject it too (400).
var ErrMalformed = errors.New("malformed request")

// Classify returns every IAM authorization that r needs on AWS; the Gateway asks them in order.
// service is "dynamodb", "sqs", "sns", "s3" or "lambda"; body is r's body, already read (nil for
// S3 and Lambda, whose bodies only an S3 multi-object delete needs); queueARN maps a queue URL to
// its ARN (nil derives the ARN from the URL's path). The KMS authorizations of an SSE-KMS bucket
// depend on the bucket's configuration and are added by the Gateway, not here. An error wraps
// ErrUnsupported or ErrMalformed.
func Classify(service string, r *http.Request, body []byte, region, account string, queueARN func(string) (string, bool)) ([]Access, error) {
	c, err := classify(service, r, body, environment{region: region, account: account, queueARN: queueARN})
	return c.accesses, err
}

// environment is what classification needs to know besides the request.
type environment struct {
	region, account string
	// queueARN maps a queue URL to its ARN; nil or not found derives it from the URL.
	queueARN func(queueURL string) (string, bool)
	// bucketKMSKey returns the KMS key ARN of a bucket's default encryption, "" for none; nil
	// means no bucket uses SSE-KMS.
	bucketKMSKey func(bucket string) string
}

// partition is the ARN partition of the environment's region.
func (e environment) partition() string {
	switch {
	case strings.HasPrefix(e.region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(e.region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// arn builds an ARN in the environment's partition.
func (e environment) arn(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", e.partition(), service, region, account, resource)
}

// context returns the condition keys every request carries, plus extra (pairs of key and value).
// aws:SecureTransport is true because the gateway stands for AWS's HTTPS endpoint; locally the
// wire is plain HTTP.
func (e environment) context(extra ...string) map[string][]string {
	ctx := map[string][]string{
		"aws:SecureTransport": {"true"},
		"aws:RequestedRegion": {e.region},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ctx[extra[i]] = []string{extra[i+1]}
	}
	return ctx
}

// classification is what the gateway learns from a request.
type classification struct {
	accesses []Access
	// missingKey is the s3:ListBucket access S3 requires before it reveals that an object a GET or
	// HEAD asked for does not exist; nil for every other request.
	missingKey *Access
}

// classify dispatches on the service.
func classify(service string, r *http.Request, body []byte, env environment) (classification, error) {
	var (
		c   classification
		err error
	)
	switch service {
	case "dynamodb":
		c.accesses, err = classifyDynamoDB(r, body, env)
	case "sqs":
		c.accesses, err = classifySQS(r, body, env)
	case "sns":
		c.accesses, err = classifySNS(r, body, env)
	case "s3":
		c, err = classifyS3(r, body, env)
	case "lambda":
		c.accesses, err = classifyLambda(r, env)
	default:
		err = fmt.Errorf("service %q: %w", service, ErrUnsupported)
	}
	if err != nil {
		return classification{}, err
	}
	c.accesses = dedupe(c.accesses)
	return c, nil
}

// dedupe drops repeated accesses (three items of one table in a transaction need PutItem on the
// table once), keeping the first of each.
func dedupe(accesses []Access) []Access {
	seen := map[string]bool{}
	out := accesses[:0]
	for _, a := range accesses {
		k := a.Action + " " + a.Resource
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	return out
}

// needsBody reports whether classifying a request of service needs its body: the JSON and query
// protocols carry the operation's parameters there; of S3 requests only a multi-object delete
// (POST ?delete) names its keys in the body. Object bodies are never read: they stream through.
func needsBody(service string, r *http.Request) bool {
	switch service {
	case "dynamodb", "sqs", "sns":
		return true
	case "s3":
		return r.Method == http.MethodPost && r.URL.Query().Has("delete")
	}
	return false
}
