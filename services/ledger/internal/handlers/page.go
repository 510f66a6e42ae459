package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json"
)

// Page sizes of the two paginated routes, GET /accounts/{accountId}/events and GET /accounts.
//
// Both page the same way: ?after=<where the previous page ended>&limit=<n>, and a page that is
// not the last carries `next`, the URL of the page after it with the same limit ([nextURL]), so
// clients follow `next` and never build a cursor. A cursor holds only a position inside one
// partition (a sort key), never the partition: the events route checks that the account in the
// path is the caller's, and the accounts route always reads the caller's own partition.
const (
	// DefaultPageSize is the page size when the request has no limit.
	DefaultPageSize = 50
	// MaxPageSize is the largest limit a request may ask for.
	MaxPageSize = 500
)

// pageLimit reads ?limit=, DefaultPageSize when absent.
func pageLimit(req events.APIGatewayV2HTTPRequest) (int, error) {
	n, err := queryInt(req, "limit", DefaultPageSize, 1, MaxPageSize)
	return int(n), err
}

// nextURL is the URL of the page after the one that ended at after.
func nextURL(path, after string, limit int) string {
	q := url.Values{"after": {after}, "limit": {strconv.Itoa(limit)}}
	return path + "?" + q.Encode()
}

// maxAccountsTokenLength bounds the after parameter of GET /accounts before it is decoded; the
// tokens the route issues are well under it.
const maxAccountsTokenLength = 512

// accountsToken is the cursor of GET /accounts: base64url (unpadded) of this JSON.
//
// It is opaque to clients (they follow `next`), so its contents may change without breaking
// them. What it holds, and why it is safe without a signature:
//
//   - Only the sort key: After is the last account ID of the previous page. It is never a
//     DynamoDB key, and the partition key is never taken from it: the read model is always
//     queried in the partition of the caller's verified identity (the JWT's sub), and After
//     only says where to start inside it (accountId > After). So no token, issued, altered or
//     made up, can read another caller's accounts; the worst a forged one does is start the
//     caller's own list at another place.
//   - Owner binds the token to the caller it was issued to: a digest of their subject, checked
//     on every request, so a token used by anyone else (pasted from another user's page) is
//     refused with 400 instead of quietly paging from a position in someone else's list. The
//     digest is not a secret (anyone can compute it for a subject they know) and needs not be:
//     it catches mistakes, and the partition rule above is what keeps data apart. An HMAC would
//     add a key to provision and rotate and protect nothing more.
type accountsToken struct {
	Owner string `json:"o"`
	After string `json:"a"`
}

// ownerDigest is the first 8 bytes of SHA-256 over the caller's subject, in hex; the prefix
// keeps it from matching a digest of the same subject made for another purpose.
func ownerDigest(owner string) string {
	sum := sha256.Sum256([]byte("ledger/accounts-page/" + owner))
	return hex.EncodeToString(sum[:8])
}

// encodeAccountsToken is the cursor of the page of owner's accounts after accountID.
func encodeAccountsToken(owner, accountID string) string {
	b, _ := json.Marshal(accountsToken{Owner: ownerDigest(owner), After: accountID}) // two strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeAccountsToken returns the account ID a cursor issued to owner resumes after; a 400
// problem naming "after" when the cursor is malformed or was issued to someone else.
func decodeAccountsToken(owner, token string) (string, error) {
	malformed := badParam("after", "is not a page token: follow the next link of a previous page")
	if len(token) > maxAccountsTokenLength {
		return "", malformed
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", malformed
	}
	// Decoded as strictly as request bodies (JSON v2: exact names, no duplicates, nothing after).
	var t accountsToken
	if err := json.Unmarshal(b, &t, json.RejectUnknownMembers(true)); err != nil || t.Owner == "" || t.After == "" {
		return "", malformed
	}
	if t.Owner != ownerDigest(owner) {
		return "", badParam("after", "is a page token issued to another caller")
	}
	return t.After, nil
}
