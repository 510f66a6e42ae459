package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/invalid"
)

// Limits on requests.
const (
	// MaxBodyBytes bounds a request body; a command is a few bytes of JSON.
	MaxBodyBytes = 1024
)

// Accounts is what the HTTP handlers need from the ledger (ledger.Ledger).
type Accounts interface {
	Open(ctx context.Context, owner string, req ledger.Request) (ledger.Result, error)
	Move(ctx context.Context, owner, accountID string, kind ledger.EventType, amount int64, req ledger.Request) (ledger.Result, error)
	Get(ctx context.Context, owner, accountID string) (ledger.Account, error)
	History(ctx context.Context, owner, accountID string, after int64, limit int) ([]ledger.Event, bool, error)
}

// Lister reads the caller's accounts from the read model (ledger.ReadModel).
type Lister interface {
	// List returns up to limit of owner's accounts with IDs after after ("": from the first), in
	// ID order, and whether more follow.
	List(ctx context.Context, owner, after string, limit int) ([]ledger.Summary, bool, error)
}

// API handles every ledger route. Each function in template.yaml starts one of its methods.
type API struct {
	Accounts Accounts
	Lister   Lister
	// MaxAmount is the largest amount one deposit or withdrawal may move, in minor units.
	MaxAmount   int64
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// moveRequest is the body of a deposit or a withdrawal.
type moveRequest struct {
	Amount *int64 `json:"amount"`
}

// Open handles POST /accounts: 201 with the new account, Location and ETag. The body may be
// empty or an empty JSON object.
func (a API) Open(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, ids := a.start(ctx, req)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	if strings.TrimSpace(req.Body) != "" {
		var empty struct{}
		if err := httpapi.DecodeJSON(req, &empty, MaxBodyBytes); err != nil {
			return a.fail(ctx, err), nil
		}
	}
	r, err := a.request(req, ids, "open")
	if err != nil {
		return a.fail(ctx, err), nil
	}
	res, err := a.Accounts.Open(ctx, owner, r)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	a.Log.InfoContext(ctx, "account opened", "accountId", res.Account.ID, "replayed", res.Replayed)
	resp := a.account(ctx, http.StatusCreated, res.Account)
	return httpapi.WithHeader(resp, "Location", "/accounts/"+res.Account.ID), nil
}

// Move handles POST /accounts/{accountId}/deposits and /withdrawals: 200 with the new balance
// and version, or a problem (400 bad input, 404, 412 If-Match, 409, 422 insufficient funds).
func (a API) Move(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, ids := a.start(ctx, req)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	var kind ledger.EventType
	switch {
	case strings.HasSuffix(req.RawPath, "/deposits") || strings.HasSuffix(req.RouteKey, "/deposits"):
		kind = ledger.Deposited
	case strings.HasSuffix(req.RawPath, "/withdrawals") || strings.HasSuffix(req.RouteKey, "/withdrawals"):
		kind = ledger.Withdrawn
	default:
		return a.fail(ctx, httpapi.NewProblem(http.StatusNotFound, "no such route")), nil
	}
	id, err := accountIDFrom(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	var in moveRequest
	if err := httpapi.DecodeJSON(req, &in, MaxBodyBytes); err != nil {
		return a.fail(ctx, err), nil
	}
	switch {
	case in.Amount == nil:
		return a.fail(ctx, badParam("amount", "is required")), nil
	case *in.Amount <= 0:
		return a.fail(ctx, badParam("amount", "must be a positive integer of minor units")), nil
	case *in.Amount > a.MaxAmount:
		return a.fail(ctx, badParam("amount", fmt.Sprintf("must be at most %d", a.MaxAmount))), nil
	}
	r, err := a.request(req, ids, fmt.Sprintf("%s/%s/%d", kind, id, *in.Amount))
	if err != nil {
		return a.fail(ctx, err), nil
	}
	res, err := a.Accounts.Move(ctx, owner, id, kind, *in.Amount, r)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	a.Log.InfoContext(ctx, "money moved", "accountId", res.Account.ID, "type", kind, "version", res.Account.Version, "replayed", res.Replayed)
	return a.account(ctx, http.StatusOK, res.Account), nil
}

// Get handles GET /accounts/{accountId}: the balance and version, with the version as ETag.
func (a API) Get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, _ = a.start(ctx, req)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	id, err := accountIDFrom(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	acct, err := a.Accounts.Get(ctx, owner, id)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	return a.account(ctx, http.StatusOK, acct), nil
}

// historyPage is the body of GET /accounts/{accountId}/events.
type historyPage struct {
	Events []ledger.Event `json:"events"`
	// Next is the URL of the next page; absent on the last one.
	Next string `json:"next,omitempty"`
}

// History handles GET /accounts/{accountId}/events?after=<version>&limit=<n>.
func (a API) History(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, _ = a.start(ctx, req)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	id, err := accountIDFrom(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	after, err := queryInt(req, "after", 0, 0, 1<<62)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	limit, err := pageLimit(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	evs, more, err := a.Accounts.History(ctx, owner, id, after, limit)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	page := historyPage{Events: evs}
	if page.Events == nil {
		page.Events = []ledger.Event{}
	}
	if more && len(evs) > 0 {
		page.Next = nextURL("/accounts/"+url.PathEscape(id)+"/events", strconv.FormatInt(evs[len(evs)-1].Version, 10), limit)
	}
	return httpapi.JSON(ctx, a.Log, http.StatusOK, page), nil
}

// accountsPage is the body of GET /accounts.
type accountsPage struct {
	Accounts []ledger.Summary `json:"accounts"`
	// Next is the URL of the next page; absent on the last one.
	Next string `json:"next,omitempty"`
}

// List handles GET /accounts?after=<token>&limit=<n>: a page of the caller's accounts from the
// read model, which trails the events by the stream's delay (usually well under a second). The
// token is the opaque cursor of a previous page's next link ([accountsToken]).
func (a API) List(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, _ = a.start(ctx, req)
	owner, err := httpapi.Subject(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	limit, err := pageLimit(req)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	var after string
	if token, ok := req.QueryStringParameters["after"]; ok {
		if after, err = decodeAccountsToken(owner, token); err != nil {
			return a.fail(ctx, err), nil
		}
	}
	rows, more, err := a.Lister.List(ctx, owner, after, limit)
	if err != nil {
		return a.fail(ctx, err), nil
	}
	page := accountsPage{Accounts: rows}
	if page.Accounts == nil {
		page.Accounts = []ledger.Summary{}
	}
	if more && len(rows) > 0 {
		page.Next = nextURL("/accounts", encodeAccountsToken(owner, rows[len(rows)-1].AccountID), limit)
	}
	return httpapi.JSON(ctx, a.Log, http.StatusOK, page), nil
}

func (a API) start(ctx context.Context, req events.APIGatewayV2HTTPRequest) (context.Context, correlation.IDs) {
	ids := a.Correlation.HTTP(req)
	return correlation.NewContext(ctx, ids), ids
}

// request reads the optional Idempotency-Key and If-Match headers. command identifies what is
// asked, so that reusing a key for another command is caught.
func (a API) request(req events.APIGatewayV2HTTPRequest, ids correlation.IDs, command string) (ledger.Request, error) {
	r := ledger.Request{CorrelationID: ids.CorrelationID, DebugSampled: ids.DebugSampled}
	key, err := httpapi.IdempotencyKey(req)
	if err != nil {
		return r, err
	}
	r.IdempotencyKey = key
	sum := sha256.Sum256([]byte(command))
	r.Fingerprint = hex.EncodeToString(sum[:])
	if m := strings.TrimSpace(httpapi.Header(req, "If-Match")); m != "" && m != "*" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil || v < 1 {
			return r, badParam("If-Match", `must be an account version as returned in ETag, e.g. "3"`)
		}
		r.IfMatch = v
	}
	return r, nil
}

// fail maps domain errors to problems; anything else is a 500 that echoes nothing internal.
func (a API) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	return httpapi.ErrorResponse(ctx, a.Log, err,
		httpapi.ErrorRule{Err: ledger.ErrNotFound, Status: http.StatusNotFound, Title: "Account not found"},
		httpapi.ErrorRule{Err: ledger.ErrInsufficientFunds, Status: http.StatusUnprocessableEntity, Title: "Insufficient funds"},
		httpapi.ErrorRule{Err: ledger.ErrBalanceLimit, Status: http.StatusUnprocessableEntity, Title: "Balance limit reached"},
		httpapi.ErrorRule{Err: ledger.ErrKeyReused, Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused for a different request"},
		httpapi.ErrorRule{Err: ledger.ErrPreconditionFailed, Status: http.StatusPreconditionFailed, Title: "Account has changed"},
		// Lost every race for the account's next version: other commands are landing, so a moment later this one will.
		httpapi.ErrorRule{Err: ledger.ErrConflict, Status: http.StatusConflict, Title: "Account is busy, retry", RetryAfter: time.Second},
	)
}

// account answers with an account's balance and version, and the version as a strong ETag.
func (a API) account(ctx context.Context, status int, acct ledger.Account) events.APIGatewayV2HTTPResponse {
	resp := httpapi.JSON(ctx, a.Log, status, acct)
	return httpapi.WithHeader(resp, "ETag", strconv.Quote(strconv.FormatInt(acct.Version, 10)))
}

// badParam is a refusal naming the request field, header or query parameter at fault.
func badParam(name, reason string) error {
	return &invalid.Param{Name: name, Reason: reason}
}

// maxAccountIDLength is the longest account ID ledger.Ledger makes (its NewID's contract).
const maxAccountIDLength = 32

// accountIDFrom returns the account ID in the path, or ledger.ErrNotFound when no account can have
// it: at most maxAccountIDLength characters of A-Z a-z 0-9.
func accountIDFrom(req events.APIGatewayV2HTTPRequest) (string, error) {
	return httpapi.PathID(req, "accountId", func(id string) bool {
		if id == "" || len(id) > maxAccountIDLength {
			return false
		}
		for _, c := range []byte(id) {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
				return false
			}
		}
		return true
	}, ledger.ErrNotFound)
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(req events.APIGatewayV2HTTPRequest, name string, def, lo, hi int64) (int64, error) {
	s, ok := req.QueryStringParameters[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n, nil
}
