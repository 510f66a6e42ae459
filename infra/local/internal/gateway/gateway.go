package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/faults"
)

// maxClassifiedBody is the most the gateway reads of a body it must classify: DynamoDB's largest
// request (BatchWriteItem, 16 MB) with room to spare. Object bodies are never read.
const maxClassifiedBody = 32 << 20

// corsResponseHeaders are the CORS headers S3 sends on an actual (not preflight) response: all
// but Access-Control-Allow-Headers.
var corsResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Credentials",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age", "Vary",
}

// preflightTimeout bounds the CORS preflight a refused browser request costs.
const preflightTimeout = 2 * time.Second

// Access is one IAM authorization a request needs.
type Access struct {
	// Action is service:action, as in "dynamodb:GetItem".
	Action string
	// Resource is the ARN acted on, or "*" for an action that takes none.
	Resource string
	// Context holds the request's condition keys and their values.
	Context map[string][]string
}

// Caller is who signed a request.
type Caller struct {
	// Name is the function's logical ID, for log lines ("SubmitJobFunction").
	Name string
	// ARN is the caller's assumed-role ARN
	// (arn:aws:sts::000000000000:assumed-role/<role>/<function name>), for error messages.
	ARN string
	// Authorize decides one access: allowed, and when not, whether an explicit deny decided it
	// (the error text differs).
	Authorize func(Access) (allowed bool, explicitDeny bool)
}

// Config is what a Gateway needs to know.
type Config struct {
	// Service is the AWS service in front of which the gateway stands: "dynamodb", "sqs", "sns",
	// "s3" or "lambda".
	Service string
	// Upstream is the stand-in's endpoint.
	Upstream *url.URL
	// Region and Account are those of the local stack, for the ARNs a request's parameters imply.
	Region  string
	Account string
	// Callers maps an access key id to its caller; ok is false for an unknown key.
	Callers func(accessKeyID string) (Caller, bool)
	// Trusted reports keys that bypass every check (the runner's own provisioning and polling,
	// and the test clients' key).
	Trusted func(accessKeyID string) bool
	// QueueARN maps a queue URL, as the stand-in returns it (hosts like sqs.us-east-1.localhost),
	// to its ARN. Nil, or ok false, derives the ARN from the URL's /<account>/<name> path.
	QueueARN func(queueURL string) (string, bool)
	// BucketKMSKey returns the ARN of the KMS key a bucket's default encryption uses, "" when
	// none. S3 then needs kms:GenerateDataKey to write and kms:Decrypt to read, from the caller,
	// as AWS checks (a pre-signed URL carries its signer's permissions, so it needs them too).
	// Nil means no bucket uses SSE-KMS.
	BucketKMSKey func(bucket string) string
	// Log receives one line per refused request; nil discards them.
	Log *slog.Logger
	// Faults injects AWS's everyday failures into the requests functions sign (package faults);
	// nil injects none. Trusted callers never meet a fault.
	Faults *faults.Injector
}

// Gateway is an http.Handler that authorizes each request as AWS would and forwards the allowed
// ones, unchanged, to the stand-in.
type Gateway struct {
	cfg       Config
	env       environment
	log       *slog.Logger
	proxy     *httputil.ReverseProxy
	transport http.RoundTripper
	denials   atomic.Int64
}

// New returns a Gateway for cfg.Service. Callers and Trusted are required.
func New(cfg Config) (*Gateway, error) {
	if _, ok := serviceErrors[cfg.Service]; !ok {
		return nil, fmt.Errorf("new IAM gateway: unknown service %q", cfg.Service)
	}
	if cfg.Upstream == nil || cfg.Upstream.Host == "" {
		return nil, fmt.Errorf("new IAM gateway for %s: no upstream", cfg.Service)
	}
	if cfg.Callers == nil || cfg.Trusted == nil {
		return nil, fmt.Errorf("new IAM gateway for %s: Callers and Trusted are required", cfg.Service)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Ask for nothing the caller did not: an added Accept-Encoding would change the request.
	transport.DisableCompression = true
	// Up to 50 environments per function call the same stand-in at once.
	transport.MaxIdleConnsPerHost = 64
	g := &Gateway{
		cfg:       cfg,
		env:       environment{region: cfg.Region, account: cfg.Account, queueARN: cfg.QueueARN, bucketKMSKey: cfg.BucketKMSKey},
		log:       log,
		transport: transport,
	}
	upstream := cfg.Upstream
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			// The Host header is signed: versitygw checks the signature against it.
			pr.Out.Host = pr.In.Host
		},
		Transport:      transport,
		FlushInterval:  -1,
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamFailed,
	}
	return g, nil
}

// Denials returns how many requests the gateway refused so far: denied by IAM, signed with an
// unknown key, unsigned, or not understood.
func (g *Gateway) Denials() int64 {
	return g.denials.Load()
}

// forwardKey is the context key under which ServeHTTP hands a request's caller and
// classification to modifyResponse.
type forwardKey struct{}

// forwarded is what modifyResponse needs to know of a forwarded request.
type forwarded struct {
	caller Caller
	c      classification
}

// ServeHTTP authorizes r and forwards it, or answers with the service's error.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		// A CORS preflight carries no credentials, on AWS too.
		g.proxy.ServeHTTP(w, r)
		return
	}
	sig, signed := readSignature(r)
	if !signed {
		g.refuse(w, r, refuseUnsigned, "", "")
		g.log.Warn("IAM refused an unsigned request", "service", g.cfg.Service, "method", r.Method, "path", r.URL.Path)
		return
	}
	if g.cfg.Trusted(sig.accessKeyID) {
		g.proxy.ServeHTTP(w, r)
		return
	}
	caller, ok := g.cfg.Callers(sig.accessKeyID)
	if !ok {
		g.refuse(w, r, refuseUnknownKey, "", sig.accessKeyID)
		g.log.Warn("IAM refused an unknown access key", "service", g.cfg.Service, "access_key_id", sig.accessKeyID)
		return
	}

	var body []byte
	if needsBody(g.cfg.Service, r) {
		var err error
		if body, err = readBody(r); err != nil {
			g.refuse(w, r, refuseTooLarge, err.Error(), "")
			g.log.Warn("IAM refused a request", "service", g.cfg.Service, "function", caller.Name, "error", err)
			return
		}
	}
	c, err := classify(g.cfg.Service, r, body, g.env)
	if err != nil {
		why := refuseUnsupported
		message := notImplemented + ": " + err.Error()
		if errors.Is(err, ErrMalformed) {
			why, message = refuseMalformed, err.Error()
		}
		g.refuse(w, r, why, message, "")
		g.log.Warn("IAM refused a request it cannot classify", "service", g.cfg.Service, "function", caller.Name, "method", r.Method, "path", r.URL.Path, "error", err)
		return
	}
	for _, a := range c.accesses {
		allowed, explicitDeny := caller.Authorize(a)
		if allowed {
			continue
		}
		g.refuse(w, r, refuseDenied, deniedMessage(caller.ARN, a, explicitDeny), "")
		g.logDenied(caller, a, explicitDeny)
		return
	}
	ctx := context.WithValue(r.Context(), forwardKey{}, &forwarded{caller: caller, c: c})
	r = r.WithContext(ctx)
	if d, ok := g.fault(caller, c); ok {
		g.inject(w, r, d, len(c.accesses))
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// readBody reads a body the classification needs and puts it back for forwarding.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxClassifiedBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxClassifiedBody {
		return nil, fmt.Errorf("request body over %d bytes", maxClassifiedBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// refuse counts a refusal and answers it. A refused browser request to S3 keeps the CORS headers
// S3 would have sent, so the page can read the error.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, why refusal, message, accessKeyID string) {
	g.denials.Add(1)
	if g.cfg.Service == "s3" && r.Header.Get("Origin") != "" {
		for name, values := range g.corsHeaders(r) {
			w.Header()[name] = values
		}
	}
	writeServiceError(w, r, g.cfg.Service, why, message, accessKeyID)
}

// logDenied logs one denied access.
func (g *Gateway) logDenied(caller Caller, a Access, explicitDeny bool, extra ...any) {
	attrs := []any{"function", caller.Name, "action", a.Action, "resource", a.Resource, "service", g.cfg.Service}
	if explicitDeny {
		attrs = append(attrs, "explicit_deny", true)
	}
	g.log.Warn("IAM denied", append(attrs, extra...)...)
}

// corsHeaders asks the stand-in, with a preflight for the same path, origin and method, which
// CORS headers its answer to r would have carried. versitygw applies the bucket's CORS rules;
// nothing comes back when they do not match or the preflight fails.
func (g *Gateway) corsHeaders(r *http.Request) http.Header {
	ctx, cancel := context.WithTimeout(r.Context(), preflightTimeout)
	defer cancel()
	target := *g.cfg.Upstream
	target.Path, target.RawPath = r.URL.Path, r.URL.RawPath
	preflight, err := http.NewRequestWithContext(ctx, http.MethodOptions, target.String(), nil)
	if err != nil {
		return nil
	}
	preflight.Host = r.Host
	preflight.Header.Set("Origin", r.Header.Get("Origin"))
	preflight.Header.Set("Access-Control-Request-Method", r.Method)
	resp, err := g.transport.RoundTrip(preflight)
	if err != nil {
		g.log.Debug("CORS preflight for a refused request failed", "service", g.cfg.Service, "error", err)
		return nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	out := http.Header{}
	for _, name := range corsResponseHeaders {
		if v := resp.Header.Values(name); len(v) > 0 {
			out[name] = v
		}
	}
	return out
}

// modifyResponse applies S3's rule for missing keys: a GET or HEAD of a key that does not exist
// is 404 NoSuchKey only for a caller allowed s3:ListBucket on the bucket; anyone else gets 403
// AccessDenied, so that a caller cannot learn which keys exist.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	if g.cfg.Service == "dynamodb" && resp.Header.Get("X-Amz-Crc32") == "" {
		return addCRC32(resp)
	}
	f, ok := resp.Request.Context().Value(forwardKey{}).(*forwarded)
	if !ok || f.c.missingKey == nil || resp.StatusCode != http.StatusNotFound {
		return nil
	}
	list := *f.c.missingKey
	allowed, explicitDeny := f.caller.Authorize(list)
	if allowed {
		return nil
	}
	g.denials.Add(1)
	g.logDenied(f.caller, list, explicitDeny, "note", "S3 answers 403 instead of 404 for a missing key to a caller without s3:ListBucket")

	rec := newRecorder()
	writeServiceError(rec, resp.Request, "s3", refuseDenied, deniedMessage(f.caller.ARN, list, explicitDeny), "")
	header := rec.header
	// Keep the stand-in's CORS headers so that a browser page can read the error.
	for _, name := range corsResponseHeaders {
		if v := resp.Header.Values(name); len(v) > 0 {
			header[name] = v
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.StatusCode = rec.status
	resp.Status = strconv.Itoa(rec.status) + " " + http.StatusText(rec.status)
	resp.Header = header
	resp.Body = io.NopCloser(bytes.NewReader(rec.body.Bytes()))
	resp.ContentLength = int64(rec.body.Len())
	resp.TransferEncoding = nil
	return nil
}

// addCRC32 adds the X-Amz-Crc32 header DynamoDB puts on every response and DynamoDB Local leaves
// off its errors. Without it the SDK logs a checksum warning for every conditional-check failure
// (about 1,300 lines in a heavy run), drowning the function logs; the services must not carry a
// local workaround, so the stand-in's answer is completed here. DynamoDB answers are small (a
// page is at most 1 MB), so buffering one is fine.
func addCRC32(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read DynamoDB answer: %w", err)
	}
	resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.TransferEncoding = nil
	return nil
}

// upstreamFailed answers a request the stand-in did not: 502, logged unless the caller left.
func (g *Gateway) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	g.log.Error("IAM gateway cannot reach the stand-in", "service", g.cfg.Service, "upstream", g.cfg.Upstream.String(), "error", err)
	w.WriteHeader(http.StatusBadGateway)
}

// recorder is a minimal http.ResponseWriter that keeps what is written, to build a replacement
// response with the same writer as the refusals.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newRecorder returns an empty recorder.
func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

// Header returns the header map to fill before WriteHeader.
func (r *recorder) Header() http.Header { return r.header }

// Write keeps body bytes.
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// WriteHeader keeps the status.
func (r *recorder) WriteHeader(status int) { r.status = status }
