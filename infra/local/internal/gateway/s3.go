package gateway

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// S3 is REST: the operation is the method, the path (/<bucket>[/<key>], path-style addressing as
// the SDK uses against an IP-address endpoint) and at most one sub-resource in the query string
// (?tagging, ?uploads, ?cors ...). The actions below follow "Required permissions for Amazon S3 API
// operations" in the S3 User Guide; every name was checked against the Service Authorization
// Reference's list of S3 actions.

// s3BucketSubresources maps a bucket sub-resource and a method to the action it needs. Deleting a
// configuration needs the action that puts it, except where S3 has a Delete action of its own.
var s3BucketSubresources = map[string]map[string]string{
	"cors":              {http.MethodGet: "GetBucketCORS", http.MethodPut: "PutBucketCORS", http.MethodDelete: "PutBucketCORS"},
	"policy":            {http.MethodGet: "GetBucketPolicy", http.MethodPut: "PutBucketPolicy", http.MethodDelete: "DeleteBucketPolicy"},
	"lifecycle":         {http.MethodGet: "GetLifecycleConfiguration", http.MethodPut: "PutLifecycleConfiguration", http.MethodDelete: "PutLifecycleConfiguration"},
	"tagging":           {http.MethodGet: "GetBucketTagging", http.MethodPut: "PutBucketTagging", http.MethodDelete: "PutBucketTagging"},
	"notification":      {http.MethodGet: "GetBucketNotification", http.MethodPut: "PutBucketNotification"},
	"versioning":        {http.MethodGet: "GetBucketVersioning", http.MethodPut: "PutBucketVersioning"},
	"encryption":        {http.MethodGet: "GetEncryptionConfiguration", http.MethodPut: "PutEncryptionConfiguration", http.MethodDelete: "PutEncryptionConfiguration"},
	"ownershipControls": {http.MethodGet: "GetBucketOwnershipControls", http.MethodPut: "PutBucketOwnershipControls", http.MethodDelete: "PutBucketOwnershipControls"},
	"publicAccessBlock": {http.MethodGet: "GetBucketPublicAccessBlock", http.MethodPut: "PutBucketPublicAccessBlock", http.MethodDelete: "PutBucketPublicAccessBlock"},
	"uploads":           {http.MethodGet: "ListBucketMultipartUploads"},
	"location":          {http.MethodGet: "GetBucketLocation"},
	"acl":               {http.MethodGet: "GetBucketAcl", http.MethodPut: "PutBucketAcl"},
	"website":           {http.MethodGet: "GetBucketWebsite", http.MethodPut: "PutBucketWebsite", http.MethodDelete: "DeleteBucketWebsite"},
	"logging":           {http.MethodGet: "GetBucketLogging", http.MethodPut: "PutBucketLogging"},
	"object-lock":       {http.MethodGet: "GetBucketObjectLockConfiguration", http.MethodPut: "PutBucketObjectLockConfiguration"},
	"policyStatus":      {http.MethodGet: "GetBucketPolicyStatus"},
	"accelerate":        {http.MethodGet: "GetAccelerateConfiguration", http.MethodPut: "PutAccelerateConfiguration"},
	"requestPayment":    {http.MethodGet: "GetBucketRequestPayment", http.MethodPut: "PutBucketRequestPayment"},
	"replication":       {http.MethodGet: "GetReplicationConfiguration", http.MethodPut: "PutReplicationConfiguration", http.MethodDelete: "PutReplicationConfiguration"},
	// Handled below: listings need condition keys, a multi-object delete names its keys in the body.
	"versions": {http.MethodGet: "ListBucketVersions"},
	"delete":   {http.MethodPost: "DeleteObject"},
}

// s3ObjectSubresources maps an object sub-resource and a method to the action it needs.
var s3ObjectSubresources = map[string]map[string]string{
	"tagging":    {http.MethodGet: "GetObjectTagging", http.MethodPut: "PutObjectTagging", http.MethodDelete: "DeleteObjectTagging"},
	"acl":        {http.MethodGet: "GetObjectAcl", http.MethodPut: "PutObjectAcl"},
	"retention":  {http.MethodGet: "GetObjectRetention", http.MethodPut: "PutObjectRetention"},
	"legal-hold": {http.MethodGet: "GetObjectLegalHold", http.MethodPut: "PutObjectLegalHold"},
	"torrent":    {http.MethodGet: "GetObjectTorrent"},
	"restore":    {http.MethodPost: "RestoreObject"},
	// Handled below: multipart uploads, attributes and select.
	"uploads":    {http.MethodPost: "PutObject"},
	"uploadId":   {http.MethodGet: "ListMultipartUploadParts", http.MethodPut: "PutObject", http.MethodPost: "PutObject", http.MethodDelete: "AbortMultipartUpload"},
	"attributes": {http.MethodGet: "GetObjectAttributes"},
	"select":     {http.MethodPost: "GetObject"},
}

// s3VersionActions are the actions a request naming a versionId needs instead.
var s3VersionActions = map[string]string{
	"GetObject":           "GetObjectVersion",
	"DeleteObject":        "DeleteObjectVersion",
	"GetObjectTagging":    "GetObjectVersionTagging",
	"PutObjectTagging":    "PutObjectVersionTagging",
	"DeleteObjectTagging": "DeleteObjectVersionTagging",
	"GetObjectAcl":        "GetObjectVersionAcl",
	"PutObjectAcl":        "PutObjectVersionAcl",
	"GetObjectAttributes": "GetObjectVersionAttributes",
}

// s3Parameters are query parameters that select no sub-resource: listing and paging options,
// response header overrides, the SDK's x-id, and (by prefix, below) a pre-signed URL's X-Amz-*.
var s3Parameters = map[string]bool{
	"prefix": true, "delimiter": true, "max-keys": true, "marker": true, "list-type": true,
	"continuation-token": true, "start-after": true, "fetch-owner": true, "encoding-type": true,
	"versionId": true, "partNumber": true, "max-parts": true, "part-number-marker": true,
	"max-uploads": true, "key-marker": true, "upload-id-marker": true, "version-id-marker": true,
	"x-id": true, "select-type": true,
	"response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
}

// s3Request is what classification knows of one S3 request.
type s3Request struct {
	r           *http.Request
	env         environment
	bucket, key string
	query       url.Values
	// context holds the condition keys every access of the request carries.
	context map[string][]string
}

// classifyS3 maps an S3 request to its IAM actions.
func classifyS3(r *http.Request, body []byte, env environment) (classification, error) {
	// The path is decoded: a key's %2F and its / are the same to S3, and bucket names hold neither.
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	req := s3Request{r: r, env: env, bucket: bucket, key: key, query: r.URL.Query(), context: s3Context(r, env)}
	if bucket == "" {
		if r.Method == http.MethodGet {
			return classification{accesses: []Access{req.access("ListAllMyBuckets", "*")}}, nil
		}
		return classification{}, fmt.Errorf("s3 %s on the service: %w", r.Method, ErrUnsupported)
	}
	if strings.HasPrefix(bucket, "arn:") {
		return classification{}, fmt.Errorf("s3 access point or outpost ARN in the path: %w", ErrUnsupported)
	}
	subresources := s3BucketSubresources
	if key != "" {
		subresources = s3ObjectSubresources
	}
	sub, err := s3Subresource(req.query, subresources)
	if err != nil {
		return classification{}, err
	}
	if sub != "" {
		if _, ok := subresources[sub][r.Method]; !ok {
			return classification{}, fmt.Errorf("s3 %s ?%s: %w", r.Method, sub, ErrUnsupported)
		}
	}
	if key == "" {
		return req.bucketAccesses(sub, body)
	}
	return req.objectAccesses(sub)
}

// s3Context returns the condition keys of an S3 request that apply to all its accesses.
func s3Context(r *http.Request, env environment) map[string][]string {
	ctx := env.context()
	if sig, ok := readSignature(r); ok {
		ctx["s3:authType"] = []string{"REST-HEADER"}
		if sig.presigned {
			ctx["s3:authType"] = []string{"REST-QUERY-STRING"}
		}
		if sig.algorithm != "" {
			ctx["s3:signatureversion"] = []string{sig.algorithm}
		}
	}
	for _, h := range []string{"x-amz-content-sha256", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"} {
		if v := r.Header.Get(h); v != "" {
			ctx["s3:"+h] = []string{v}
		}
	}
	return ctx
}

// s3Subresource returns the request's sub-resource, "" for none. A parameter that is neither a
// known sub-resource nor a known option is an error: it may select an operation with other
// permissions.
func s3Subresource(query url.Values, known map[string]map[string]string) (string, error) {
	var sub string
	for name := range query {
		switch {
		case s3Parameters[name], strings.HasPrefix(strings.ToLower(name), "x-amz-"):
			continue
		case known[name] == nil:
			return "", fmt.Errorf("s3 query parameter %q: %w", name, ErrUnsupported)
		case sub != "":
			return "", fmt.Errorf("s3 sub-resources %q and %q in one request: %w", sub, name, ErrUnsupported)
		}
		sub = name
	}
	return sub, nil
}

// access returns an access to resource with the request's condition keys and extra ones.
func (s s3Request) access(action, resource string, extra ...string) Access {
	ctx := make(map[string][]string, len(s.context)+len(extra)/2)
	for k, v := range s.context {
		ctx[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ctx[extra[i]] = []string{extra[i+1]}
	}
	return Access{Action: "s3:" + action, Resource: resource, Context: ctx}
}

// bucketARN names the request's bucket.
func (s s3Request) bucketARN() string { return s.bucketARNOf(s.bucket) }

// bucketARNOf names a bucket.
func (s s3Request) bucketARNOf(bucket string) string {
	return "arn:" + s.env.partition() + ":s3:::" + bucket
}

// objectARN names an object: its bucket's ARN, a slash and its key, unescaped.
func (s s3Request) objectARN(bucket, key string) string { return s.bucketARNOf(bucket) + "/" + key }

// versioned returns the action a request with a versionId needs instead of action.
func versioned(action, versionID string) string {
	if v, ok := s3VersionActions[action]; ok && versionID != "" {
		return v
	}
	return action
}

// listContext returns the condition keys of a listing: s3:prefix always ("" when absent, as S3
// sets it), s3:delimiter and s3:max-keys when given.
func (s s3Request) listContext() []string {
	extra := []string{"s3:prefix", s.query.Get("prefix")}
	for _, p := range []string{"delimiter", "max-keys"} {
		if s.query.Has(p) {
			extra = append(extra, "s3:"+p, s.query.Get(p))
		}
	}
	return extra
}

// bucketAccesses classifies a request on a bucket.
func (s s3Request) bucketAccesses(sub string, body []byte) (classification, error) {
	bucket := s.bucketARN()
	one := func(action string, extra ...string) (classification, error) {
		return classification{accesses: []Access{s.access(action, bucket, extra...)}}, nil
	}
	switch {
	case sub == "" && s.r.Method == http.MethodGet:
		// ListObjects and ListObjectsV2 (?list-type=2).
		return one("ListBucket", s.listContext()...)
	case sub == "" && s.r.Method == http.MethodHead:
		return one("ListBucket")
	case sub == "" && s.r.Method == http.MethodPut:
		return one("CreateBucket")
	case sub == "" && s.r.Method == http.MethodDelete:
		return one("DeleteBucket")
	case sub == "":
		// POST /<bucket> is a browser upload with a signed policy in a multipart form.
		return classification{}, fmt.Errorf("s3 %s on a bucket (browser POST upload): %w", s.r.Method, ErrUnsupported)
	case sub == "versions":
		return one("ListBucketVersions", s.listContext()...)
	case sub == "delete":
		return s.deleteObjects(body)
	}
	return one(s3BucketSubresources[sub][s.r.Method])
}

// deleteObjects classifies DeleteObjects (POST /<bucket>?delete): S3 authorizes each key of the
// body as a DeleteObject of its own.
func (s s3Request) deleteObjects(body []byte) (classification, error) {
	var doc struct {
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return classification{}, fmt.Errorf("s3 DeleteObjects body: %v: %w", err, ErrMalformed)
	}
	if len(doc.Objects) == 0 {
		return classification{}, fmt.Errorf("s3 DeleteObjects names no object: %w", ErrMalformed)
	}
	var c classification
	for _, o := range doc.Objects {
		c.accesses = append(c.accesses, s.access(versioned("DeleteObject", o.VersionID), s.objectARN(s.bucket, o.Key)))
	}
	return c, nil
}

// objectAccesses classifies a request on an object.
func (s s3Request) objectAccesses(sub string) (classification, error) {
	method := s.r.Method
	object := s.objectARN(s.bucket, s.key)
	versionID := s.query.Get("versionId")
	var c classification
	add := func(action, resource string) {
		c.accesses = append(c.accesses, s.access(action, resource))
	}
	switch {
	case sub == "" && (method == http.MethodGet || method == http.MethodHead):
		// HEAD is authorized as GetObject. A missing key is revealed only to a caller allowed
		// s3:ListBucket (see Gateway).
		add(versioned("GetObject", versionID), object)
		missing := s.access("ListBucket", s.bucketARN(), "s3:prefix", s.key)
		c.missingKey = &missing
		// Reading the body decrypts it. HEAD reads metadata only, except that with checksum mode
		// on, S3 decrypts the stored checksum of an SSE-KMS object with the caller's permission
		// (HeadObject's reference: "you must have permission to use the kms:Decrypt action").
		if method == http.MethodGet || strings.EqualFold(s.r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
			s.kms(&c, "Decrypt", s.bucket)
		}
	case sub == "" && method == http.MethodPut:
		add("PutObject", object)
		s.writeExtras(&c, object)
		if err := s.copySource(&c); err != nil {
			return classification{}, err
		}
		s.kms(&c, "GenerateDataKey", s.bucket)
	case sub == "" && method == http.MethodDelete:
		add(versioned("DeleteObject", versionID), object)
	case sub == "":
		return classification{}, fmt.Errorf("s3 %s on an object: %w", method, ErrUnsupported)
	case sub == "uploads":
		// CreateMultipartUpload: S3 generates the upload's data key now.
		add("PutObject", object)
		s.writeExtras(&c, object)
		s.kms(&c, "GenerateDataKey", s.bucket)
	case sub == "uploadId" && method == http.MethodPut:
		// UploadPart and UploadPartCopy: S3 decrypts the upload's data key to encrypt each part
		// (AWS knowledge center, "s3-large-file-encryption-kms-key": kms:Decrypt on UploadPart and
		// UploadPartCopy).
		add("PutObject", object)
		if err := s.copySource(&c); err != nil {
			return classification{}, err
		}
		s.kms(&c, "Decrypt", s.bucket)
	case sub == "attributes":
		// GetObjectAttributes needs both actions (their Version forms for a versionId).
		add(versioned("GetObjectAttributes", versionID), object)
		add(versioned("GetObject", versionID), object)
	case sub == "select":
		add("GetObject", object)
		s.kms(&c, "Decrypt", s.bucket)
	default:
		add(versioned(s3ObjectSubresources[sub][method], versionID), object)
	}
	return c, nil
}

// writeExtras adds what an upload needs besides s3:PutObject for what it sets in the same
// request: tags (x-amz-tagging, or X-Amz-Tagging signed into a pre-signed URL), an ACL, Object
// Lock retention or legal hold.
func (s s3Request) writeExtras(c *classification, object string) {
	h := s.r.Header
	if h.Get("x-amz-tagging") != "" || s.query.Get("X-Amz-Tagging") != "" || s.query.Get("x-amz-tagging") != "" {
		c.accesses = append(c.accesses, s.access("PutObjectTagging", object))
	}
	if h.Get("x-amz-acl") != "" || h.Get("x-amz-grant-read") != "" || h.Get("x-amz-grant-read-acp") != "" ||
		h.Get("x-amz-grant-write-acp") != "" || h.Get("x-amz-grant-full-control") != "" {
		c.accesses = append(c.accesses, s.access("PutObjectAcl", object))
	}
	if h.Get("x-amz-object-lock-mode") != "" || h.Get("x-amz-object-lock-retain-until-date") != "" {
		c.accesses = append(c.accesses, s.access("PutObjectRetention", object))
	}
	if h.Get("x-amz-object-lock-legal-hold") != "" {
		c.accesses = append(c.accesses, s.access("PutObjectLegalHold", object))
	}
}

// copySource adds what reading the source of CopyObject or UploadPartCopy needs: s3:GetObject (or
// GetObjectVersion) on it, and kms:Decrypt when its bucket uses SSE-KMS.
func (s s3Request) copySource(c *classification) error {
	v := s.r.Header.Get("x-amz-copy-source")
	if v == "" {
		return nil
	}
	// "<bucket>/<key>[?versionId=<id>]", URL-encoded, with or without a leading slash.
	source, rawQuery, _ := strings.Cut(v, "?")
	decoded, err := url.PathUnescape(strings.TrimPrefix(source, "/"))
	if err != nil {
		return fmt.Errorf("s3 x-amz-copy-source %q: %v: %w", v, err, ErrMalformed)
	}
	bucket, key, _ := strings.Cut(decoded, "/")
	if strings.HasPrefix(bucket, "arn:") {
		return fmt.Errorf("s3 x-amz-copy-source from an access point: %w", ErrUnsupported)
	}
	if bucket == "" || key == "" {
		return fmt.Errorf("s3 x-amz-copy-source %q names no bucket and key: %w", v, ErrMalformed)
	}
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("s3 x-amz-copy-source %q: %v: %w", v, err, ErrMalformed)
	}
	c.accesses = append(c.accesses, s.access(versioned("GetObject", params.Get("versionId")), s.objectARN(bucket, key)))
	s.kms(c, "Decrypt", bucket)
	return nil
}

// kms adds the KMS action S3 performs with the caller's permissions when bucket's default
// encryption is SSE-KMS: GenerateDataKey to write, Decrypt to read. S3 calls KMS on the caller's
// behalf, so kms:ViaService is S3 in the region.
func (s s3Request) kms(c *classification, action, bucket string) {
	if s.env.bucketKMSKey == nil {
		return
	}
	key := s.env.bucketKMSKey(bucket)
	if key == "" {
		return
	}
	c.accesses = append(c.accesses, Access{
		Action:   "kms:" + action,
		Resource: key,
		Context: s.env.context(
			"kms:ViaService", "s3."+s.env.region+".amazonaws.com",
			"kms:CallerAccount", s.env.account,
		),
	})
}
