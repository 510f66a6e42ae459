package gateway

import (
	"net/http"
	"strings"
)

// signature is what the gateway reads of a request's signature: who signed and how.
type signature struct {
	// accessKeyID is the signer's key; empty when the request is unsigned.
	accessKeyID string
	// algorithm is the signing algorithm, as in "AWS4-HMAC-SHA256".
	algorithm string
	// presigned reports a signature in the query string (a pre-signed URL) rather than the
	// Authorization header.
	presigned bool
}

// readSignature finds the access key id of a request: from the Authorization header
// ("AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=...,
// Signature=..."), or from the X-Amz-Credential query parameter of a pre-signed URL. The
// signature itself is not checked (see the package documentation). ok is false for a request that
// carries neither.
func readSignature(r *http.Request) (sig signature, ok bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		algorithm, params, _ := strings.Cut(auth, " ")
		sig := signature{algorithm: algorithm}
		if algorithm == "AWS" {
			// Signature version 2: "AWS <key>:<signature>".
			sig.accessKeyID, _, _ = strings.Cut(params, ":")
			return sig, true
		}
		for _, field := range strings.Split(params, ",") {
			if credential, found := strings.CutPrefix(strings.TrimSpace(field), "Credential="); found {
				sig.accessKeyID, _, _ = strings.Cut(credential, "/")
			}
		}
		// A malformed header still names no known key: the caller gets the invalid-key error.
		return sig, true
	}
	query := r.URL.Query()
	if credential := query.Get("X-Amz-Credential"); credential != "" {
		key, _, _ := strings.Cut(credential, "/")
		return signature{accessKeyID: key, algorithm: query.Get("X-Amz-Algorithm"), presigned: true}, true
	}
	return signature{}, false
}
