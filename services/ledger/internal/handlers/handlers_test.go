package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/shared/lambdatest"
)

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

const (
	sub       = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"
	accountID = "K7ZQ4M2XH3N5P6R7S8T9V0W1XY"
)

type moveCall struct {
	owner, id string
	kind      ledger.EventType
	amount    int64
	req       ledger.Request
}

// fakeAccounts records the calls that reached the ledger and answers with err, or success.
type fakeAccounts struct {
	moves   []moveCall
	opens   []ledger.Request
	history []int64 // after, limit
	err     error
	events  []ledger.Event
	more    bool
}

func (f *fakeAccounts) Open(_ context.Context, owner string, req ledger.Request) (ledger.Result, error) {
	f.opens = append(f.opens, req)
	return ledger.Result{Account: ledger.Account{ID: accountID, Owner: owner, Version: 1}}, f.err
}

func (f *fakeAccounts) Move(_ context.Context, owner, id string, kind ledger.EventType, amount int64, req ledger.Request) (ledger.Result, error) {
	f.moves = append(f.moves, moveCall{owner, id, kind, amount, req})
	if f.err != nil {
		return ledger.Result{}, f.err
	}
	return ledger.Result{Account: ledger.Account{ID: id, Owner: owner, Balance: 7500, Version: 8}}, nil
}

func (f *fakeAccounts) Get(_ context.Context, owner, id string) (ledger.Account, error) {
	return ledger.Account{ID: id, Owner: owner, Balance: 7500, Version: 8}, f.err
}

func (f *fakeAccounts) History(_ context.Context, _, _ string, after int64, limit int) ([]ledger.Event, bool, error) {
	f.history = append(f.history, after, int64(limit))
	return f.events, f.more, f.err
}

func newAPI(f *fakeAccounts) API {
	return API{Accounts: f, MaxAmount: 1_000_000, Log: lambdatest.QuietLogger()}
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("decode %q: %v", resp.Body, err)
	}
	return m
}

func TestMoveFromFixture(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"move-money.json", &req)
	f := &fakeAccounts{}
	resp, err := newAPI(f).Move(context.Background(), req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Move() = %d %s, %v; want 200", resp.StatusCode, resp.Body, err)
	}
	if got := resp.Headers["ETag"]; got != `"8"` {
		t.Errorf("ETag = %s, want \"8\"", got)
	}
	if body := decode(t, resp); body["balance"] != float64(7500) || body["version"] != float64(8) || body["accountId"] != accountID {
		t.Errorf("body = %v, want balance 7500, version 8", body)
	}
	if len(f.moves) != 1 {
		t.Fatalf("moves = %d, want 1", len(f.moves))
	}
	m := f.moves[0]
	if m.owner != sub || m.id != accountID || m.kind != ledger.Withdrawn || m.amount != 2500 {
		t.Errorf("move = %+v, want alice's withdrawal of 2500 from %s", m, accountID)
	}
	if m.req.IfMatch != 7 || m.req.IdempotencyKey != "rent-2026-11" || m.req.CorrelationID != "checkout-7f3a" || m.req.Fingerprint == "" {
		t.Errorf("request = %+v, want If-Match 7, the key, the correlation id and a fingerprint", m.req)
	}
}

func TestMoveRejectsBadInputBeforeTheLedger(t *testing.T) {
	tests := []struct {
		name, body string
		headers    map[string]string
		wantStatus int
		wantParam  string
	}{
		{"zero", `{"amount":0}`, nil, 400, "amount"},
		{"negative", `{"amount":-5}`, nil, 400, "amount"},
		{"over the maximum", `{"amount":1000001}`, nil, 400, "amount"},
		{"float", `{"amount":12.5}`, nil, 400, "amount"},
		{"string", `{"amount":"12"}`, nil, 400, "amount"},
		{"missing", `{}`, nil, 400, "amount"},
		{"unknown field", `{"amount":5,"currency":"EUR"}`, nil, 400, "currency"},
		{"malformed", `{"amount":`, nil, 400, ""},
		{"bad If-Match", `{"amount":5}`, map[string]string{"if-match": `"seven"`}, 400, "If-Match"},
		{"If-Match zero", `{"amount":5}`, map[string]string{"if-match": `"0"`}, 400, "If-Match"},
		{"long key", `{"amount":5}`, map[string]string{"idempotency-key": string(bytes.Repeat([]byte("k"), 256))}, 400, "Idempotency-Key"},
		{"not JSON", `amount=5`, map[string]string{"content-type": "application/x-www-form-urlencoded"}, 415, ""},
		// encoding/json deposited 1000 and 7 for these: names matched in any case, the last one won.
		{"name in two cases", `{"amount":1,"Amount":1000}`, nil, 400, "Amount"},
		{"name in capitals", `{"AMOUNT":7}`, nil, 400, "AMOUNT"},
		{"name twice", `{"amount":1,"amount":1000}`, nil, 400, "amount"},
		{"beyond int64", `{"amount":9223372036854775808}`, nil, 400, "amount"},
		{"null", `null`, nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"move-money.json", &req)
			req.Body = tt.body
			delete(req.Headers, "if-match")
			delete(req.Headers, "idempotency-key")
			for k, v := range tt.headers {
				req.Headers[k] = v
			}
			f := &fakeAccounts{}
			resp, _ := newAPI(f).Move(context.Background(), req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			p := lambdatest.Problem(t, resp)
			if tt.wantParam != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam) {
				t.Errorf("invalid-params = %+v, want %s", p.InvalidParams, tt.wantParam)
			}
			if len(f.moves) != 0 {
				t.Errorf("the ledger was called %d times for bad input", len(f.moves))
			}
		})
	}
}

func TestMoveMapsDomainErrors(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantTitle  string
	}{
		{ledger.ErrInsufficientFunds, 422, "Insufficient funds"},
		{ledger.ErrNotFound, 404, "Account not found"},
		{ledger.ErrPreconditionFailed, 412, "Account has changed"},
		{ledger.ErrConflict, 409, "Account is busy, retry"},
		{ledger.ErrKeyReused, 422, "Idempotency-Key reused for a different request"},
		{ledger.ErrBalanceLimit, 422, "Balance limit reached"},
		{errors.New("dial tcp: i/o timeout"), 500, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.wantTitle, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"move-money.json", &req)
			resp, _ := newAPI(&fakeAccounts{err: fmt.Errorf("withdraw: %w", tt.err)}).Move(context.Background(), req)
			if resp.StatusCode != tt.wantStatus || lambdatest.Problem(t, resp).Title != tt.wantTitle {
				t.Errorf("got %d %s, want %d %q", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantTitle)
			}
		})
	}
}

// A 409 after losing every race for the account's next version says when to try again.
func TestMoveConflictSaysWhenToRetry(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"move-money.json", &req)
	resp, _ := newAPI(&fakeAccounts{err: fmt.Errorf("append: %w", ledger.ErrConflict)}).Move(context.Background(), req)
	if resp.StatusCode != http.StatusConflict || resp.Headers["Retry-After"] != "1" {
		t.Errorf("Move() = %d, Retry-After %q; want 409 with Retry-After 1", resp.StatusCode, resp.Headers["Retry-After"])
	}
}

// Ids no account can have are answered as unknown accounts without asking the store: DynamoDB
// refuses a key over 2048 bytes with a ValidationException, which answered 500.
func TestAccountIDsNoAccountHasAreNotFound(t *testing.T) {
	routes := []struct {
		fixture string
		call    func(API, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	}{
		{"get-account.json", func(a API, r events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return a.Get(context.Background(), r)
		}},
		{"get-account-events.json", func(a API, r events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return a.History(context.Background(), r)
		}},
		{"move-money.json", func(a API, r events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return a.Move(context.Background(), r)
		}},
	}
	for _, route := range routes {
		for _, id := range []string{strings.Repeat("A", 3000), "K7ZQ4M2XH3N5P6R7S8T9V0W1XY/", "K7ZQ4M2XH3N5P6R7S8T9V0W1XYK7ZQ4M2"} {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+route.fixture, &req)
			req.PathParameters["accountId"] = id
			f := &fakeAccounts{err: errors.New("ValidationException: key too large")}
			resp, _ := route.call(newAPI(f), req)
			if resp.StatusCode != http.StatusNotFound || lambdatest.Problem(t, resp).Title != "Account not found" {
				t.Errorf("%s with id %.20q... = %d %s; want the 404 of an unknown account", route.fixture, id, resp.StatusCode, resp.Body)
			}
			if len(f.moves) != 0 || len(f.history) != 0 {
				t.Errorf("%s: the ledger was asked about an id no account has", route.fixture)
			}
		}
	}
}

// A subject that would make "ledger/{sub}/{key}" receipts ambiguous is refused before the ledger.
func TestSubjectsThatCannotBeKeysAreRefused(t *testing.T) {
	for _, sub := range []string{"a/b", strings.Repeat("s", 2000)} {
		var req events.APIGatewayV2HTTPRequest
		lambdatest.Event(t, testdata+"move-money.json", &req)
		req.RequestContext.Authorizer.JWT.Claims["sub"] = sub
		f := &fakeAccounts{}
		resp, _ := newAPI(f).Move(context.Background(), req)
		if resp.StatusCode != http.StatusForbidden || len(f.moves) != 0 {
			t.Errorf("Move() as %.20q... = %d, %d moves; want 403 and none", sub, resp.StatusCode, len(f.moves))
		}
	}
}

func TestMoveKindComesFromTheRoute(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"move-money.json", &req)
	req.RawPath = "/accounts/" + accountID + "/deposits"
	req.RouteKey = "POST /accounts/{accountId}/deposits"
	f := &fakeAccounts{}
	if resp, _ := newAPI(f).Move(context.Background(), req); resp.StatusCode != 200 || f.moves[0].kind != ledger.Deposited {
		t.Errorf("deposit route = %d, %+v; want a deposit", resp.StatusCode, f.moves)
	}
}

func TestFingerprintsDifferByCommand(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"move-money.json", &req)
	f := &fakeAccounts{}
	api := newAPI(f)
	api.Move(context.Background(), req)
	req.Body = `{"amount":2501}`
	api.Move(context.Background(), req)
	req.Body = `{ "amount" : 2500 }`
	api.Move(context.Background(), req)
	if f.moves[0].req.Fingerprint == f.moves[1].req.Fingerprint {
		t.Error("withdrawals of 2500 and 2501 have the same fingerprint")
	}
	if f.moves[0].req.Fingerprint != f.moves[2].req.Fingerprint {
		t.Error("the same withdrawal spelt differently has another fingerprint")
	}
}

func TestOpenFromFixture(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"open-account.json", &req)
	f := &fakeAccounts{}
	resp, _ := newAPI(f).Open(context.Background(), req)
	if resp.StatusCode != http.StatusCreated || resp.Headers["Location"] != "/accounts/"+accountID || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("Open() = %d %v %s, want 201 with Location and ETag", resp.StatusCode, resp.Headers, resp.Body)
	}
	if len(f.opens) != 1 || f.opens[0].IdempotencyKey != "open-savings-1" {
		t.Errorf("opens = %+v, want one with the key", f.opens)
	}
	req.Headers["content-type"] = "application/json"
	delete(req.Headers, "idempotency-key")
	for _, tt := range []struct {
		body       string
		wantStatus int
	}{
		{``, http.StatusCreated},
		{`{}`, http.StatusCreated},
		{" { }\n", http.StatusCreated},
		{`{"name":"savings"}`, http.StatusBadRequest},
		// encoding/json decoded null into an empty struct: POST /accounts with body null opened one.
		{`null`, http.StatusBadRequest},
		{`[]`, http.StatusBadRequest},
		{`"{}"`, http.StatusBadRequest},
		{`{} {}`, http.StatusBadRequest},
	} {
		f := &fakeAccounts{}
		req.Body = tt.body
		resp, _ := newAPI(f).Open(context.Background(), req)
		if resp.StatusCode != tt.wantStatus || (tt.wantStatus == http.StatusCreated) != (len(f.opens) == 1) {
			t.Errorf("Open(%q) = %d, %d accounts opened; want %d", tt.body, resp.StatusCode, len(f.opens), tt.wantStatus)
		}
	}
}

func TestGetFromFixture(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"get-account.json", &req)
	resp, _ := newAPI(&fakeAccounts{}).Get(context.Background(), req)
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"8"` || decode(t, resp)["balance"] != float64(7500) {
		t.Errorf("Get() = %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	resp, _ = newAPI(&fakeAccounts{err: ledger.ErrNotFound}).Get(context.Background(), req)
	if resp.StatusCode != 404 {
		t.Errorf("Get(not found) = %d, want 404", resp.StatusCode)
	}
}

func TestHistoryPagination(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"get-account-events.json", &req)
	f := &fakeAccounts{more: true, events: []ledger.Event{
		{AccountID: accountID, Version: 6, Type: ledger.Deposited, Amount: 1, At: time.Unix(0, 0).UTC()},
		{AccountID: accountID, Version: 7, Type: ledger.Withdrawn, Amount: 1, At: time.Unix(0, 0).UTC()},
	}}
	resp, _ := newAPI(f).History(context.Background(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("History() = %d %s", resp.StatusCode, resp.Body)
	}
	if want := []int64{5, 2}; !reflect.DeepEqual(f.history, want) {
		t.Errorf("after, limit = %v, want %v", f.history, want)
	}
	body := decode(t, resp)
	if want := "/accounts/" + accountID + "/events?after=7&limit=2"; body["next"] != want {
		t.Errorf("next = %v, want %s", body["next"], want)
	}
	f.more = false
	if body := decode(t, must(newAPI(f).History(context.Background(), req))); body["next"] != nil {
		t.Errorf("next on the last page = %v, want none", body["next"])
	}
	for _, qs := range []map[string]string{{"after": "-1"}, {"limit": "0"}, {"limit": "501"}, {"after": "x"}} {
		req.QueryStringParameters = qs
		if resp, _ := newAPI(f).History(context.Background(), req); resp.StatusCode != 400 {
			t.Errorf("History(%v) = %d, want 400", qs, resp.StatusCode)
		}
	}
}

func must(resp events.APIGatewayV2HTTPResponse, err error) events.APIGatewayV2HTTPResponse {
	if err != nil {
		panic(err)
	}
	return resp
}

// listCall is one call that reached the read model.
type listCall struct {
	owner, after string
	limit        int
}

// fakeLister is an in-memory read model with ledger.ReadModel's contract: rows by owner, in
// account ID order, after is exclusive, the partition is always owner.
type fakeLister struct {
	rows  map[string][]string // owner → account IDs, sorted
	calls []listCall
}

func (f *fakeLister) List(_ context.Context, owner, after string, limit int) ([]ledger.Summary, bool, error) {
	f.calls = append(f.calls, listCall{owner, after, limit})
	var page []ledger.Summary
	for _, id := range f.rows[owner] {
		if id > after {
			page = append(page, ledger.Summary{Owner: owner, AccountID: id, Balance: 100, Version: 2})
		}
	}
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

func newLister(owner string, n int) *fakeLister {
	f := &fakeLister{rows: map[string][]string{}}
	for i := range n {
		f.rows[owner] = append(f.rows[owner], fmt.Sprintf("%s-acct-%03d", owner, i))
	}
	return f
}

// listRequest is GET /accounts from the fixture, as subject, with the query of the URL next (a
// path with a query, as the next link is).
func listRequest(t *testing.T, subject, next string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"list-accounts.json", &req)
	req.RequestContext.Authorizer.JWT.Claims["sub"] = subject
	u, err := url.Parse(next)
	if err != nil {
		t.Fatalf("parse %q: %v", next, err)
	}
	if u.Path != "/accounts" {
		t.Fatalf("path of %q = %s, want /accounts", next, u.Path)
	}
	req.RawQueryString = u.RawQuery
	req.QueryStringParameters = map[string]string{}
	for k, v := range u.Query() {
		req.QueryStringParameters[k] = v[0]
	}
	return req
}

type listPage struct {
	Accounts []map[string]any `json:"accounts"`
	Next     string           `json:"next"`
}

// list calls List and decodes a 200.
func list(t *testing.T, api API, req events.APIGatewayV2HTTPRequest) listPage {
	t.Helper()
	resp := must(api.List(context.Background(), req))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("List(%v) = %d %s, want 200", req.QueryStringParameters, resp.StatusCode, resp.Body)
	}
	var page listPage
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
		t.Fatalf("decode %s: %v", resp.Body, err)
	}
	return page
}

func TestListFromFixture(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"list-accounts.json", &req)
	f := &fakeLister{}
	api := API{Lister: f, Log: lambdatest.QuietLogger()}
	resp, _ := api.List(context.Background(), req)
	if resp.StatusCode != 200 || resp.Body != `{"accounts":[]}` {
		t.Errorf("List() = %d %s, want 200 and an empty list", resp.StatusCode, resp.Body)
	}
	if want := []listCall{{owner: sub, limit: DefaultPageSize}}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("read model calls = %+v, want %+v", f.calls, want)
	}
}

// TestListPages follows the next links from the first page to the last.
func TestListPages(t *testing.T) {
	tests := []struct {
		name      string
		accounts  int
		query     string
		wantPages []int
		wantLimit int
	}{
		{"no accounts", 0, "/accounts", []int{0}, DefaultPageSize},
		{"default page size", 120, "/accounts", []int{50, 50, 20}, DefaultPageSize},
		{"a short last page", 7, "/accounts?limit=3", []int{3, 3, 1}, 3},
		{"full pages only", 6, "/accounts?limit=3", []int{3, 3}, 3},
		{"one at a time", 3, "/accounts?limit=1", []int{1, 1, 1}, 1},
		{"the largest page", 501, "/accounts?limit=500", []int{500, 1}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLister("alice", tt.accounts)
			f.rows["bob"] = []string{"alice-acct-000-bob", "bob-acct-000"}
			api := API{Lister: f, Log: lambdatest.QuietLogger()}
			var pages []int
			var ids []string
			for next := tt.query; next != ""; {
				if len(pages) > len(tt.wantPages) {
					t.Fatalf("pages = %v and a next link, want %v", pages, tt.wantPages)
				}
				page := list(t, api, listRequest(t, "alice", next))
				pages = append(pages, len(page.Accounts))
				for _, a := range page.Accounts {
					ids = append(ids, a["accountId"].(string))
					if _, ok := a["owner"]; ok {
						t.Errorf("account %v shows its owner", a)
					}
				}
				if page.Next != "" && !strings.HasPrefix(page.Next, "/accounts?after=") {
					t.Errorf("next = %q, want /accounts?after=...", page.Next)
				}
				next = page.Next
			}
			if !reflect.DeepEqual(pages, tt.wantPages) {
				t.Errorf("page sizes = %v, want %v", pages, tt.wantPages)
			}
			if want := f.rows["alice"]; !slices.Equal(ids, want) {
				t.Errorf("accounts = %v, want alice's %v", ids, want)
			}
			for _, c := range f.calls {
				if c.owner != "alice" || c.limit != tt.wantLimit {
					t.Errorf("read model call %+v, want alice's with limit %d", c, tt.wantLimit)
				}
			}
		})
	}
}

func TestListLimitBounds(t *testing.T) {
	tests := []struct {
		limit     string
		wantLimit int // 0: 400 and no read
	}{
		{"1", 1},
		{"500", MaxPageSize},
		{"0", 0},
		{"-1", 0},
		{"501", 0},
		{"", 0},
		{"ten", 0},
		{"2.5", 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		t.Run("limit="+tt.limit, func(t *testing.T) {
			f := newLister("alice", 3)
			api := API{Lister: f, Log: lambdatest.QuietLogger()}
			req := listRequest(t, "alice", "/accounts")
			req.QueryStringParameters["limit"] = tt.limit
			resp := must(api.List(context.Background(), req))
			if tt.wantLimit == 0 {
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("List(limit=%s) = %d %s, want 400", tt.limit, resp.StatusCode, resp.Body)
				}
				if p := lambdatest.Problem(t, resp); len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "limit" {
					t.Errorf("invalid-params = %+v, want limit", p.InvalidParams)
				}
				if len(f.calls) != 0 {
					t.Errorf("the read model was called %d times for a bad limit", len(f.calls))
				}
				return
			}
			if resp.StatusCode != http.StatusOK || len(f.calls) != 1 || f.calls[0].limit != tt.wantLimit {
				t.Errorf("List(limit=%s) = %d, calls %+v; want 200 with limit %d", tt.limit, resp.StatusCode, f.calls, tt.wantLimit)
			}
		})
	}
}

// firstNext is the after token on the first page, of one account, of subject's three.
func firstNext(t *testing.T, subject string) string {
	t.Helper()
	page := list(t, API{Lister: newLister(subject, 3), Log: lambdatest.QuietLogger()}, listRequest(t, subject, "/accounts?limit=1"))
	u, err := url.Parse(page.Next)
	if err != nil || u.Query().Get("after") == "" {
		t.Fatalf("next = %q, want a link with an after token", page.Next)
	}
	return u.Query().Get("after")
}

func TestListRefusesABadToken(t *testing.T) {
	good := firstNext(t, "alice")
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatalf("token %q is not base64url: %v", good, err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	digest := ownerDigest("alice")
	edited := string(digest[0]^0x01) + digest[1:]
	tests := []struct {
		name, token string
	}{
		{"empty", ""},
		{"not base64", "!!!not-a-token!!!"},
		{"padded base64", base64.URLEncoding.EncodeToString(raw) + "=="},
		{"cut short", good[:len(good)-3]},
		{"JSON cut short", b64(raw[:len(raw)-2])},
		{"the binding edited", b64([]byte(`{"o":"` + edited + `","a":"alice-acct-000"}`))},
		{"not JSON", b64([]byte("alice-acct-000"))},
		{"an account ID", "alice-acct-000"},
		{"a raw DynamoDB key", b64([]byte(`{"owner":{"S":"bob"},"accountId":{"S":"bob-acct-000"}}`))},
		{"an unknown field", b64([]byte(`{"o":"` + digest + `","a":"alice-acct-000","owner":"bob"}`))},
		{"no position", b64([]byte(`{"o":"` + digest + `","a":""}`))},
		{"no owner", b64([]byte(`{"a":"alice-acct-000"}`))},
		{"two values", b64(append(raw, raw...))},
		{"a name twice", b64([]byte(`{"o":"` + digest + `","a":"alice-acct-000","a":"alice-acct-001"}`))},
		{"a name in another case", b64([]byte(`{"O":"` + digest + `","a":"alice-acct-000"}`))},
		{"too long", b64([]byte(`{"o":"` + digest + `","a":"` + strings.Repeat("x", 400) + `"}`))},
		{"another caller's", firstNext(t, "bob")},
		{"made for another caller", encodeAccountsToken("bob", "alice-acct-000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLister("alice", 3)
			api := API{Lister: f, Log: lambdatest.QuietLogger()}
			req := listRequest(t, "alice", "/accounts")
			req.QueryStringParameters["after"] = tt.token
			resp := must(api.List(context.Background(), req))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("List(after=%q) = %d %s, want 400", tt.token, resp.StatusCode, resp.Body)
			}
			if p := lambdatest.Problem(t, resp); len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "after" {
				t.Errorf("invalid-params = %+v, want after", p.InvalidParams)
			}
			if len(f.calls) != 0 {
				t.Errorf("the read model was called with %+v for a bad token", f.calls)
			}
		})
	}
}

// TestListTokenCannotReachAnotherCaller: bob's token is refused when alice sends it, and even a
// token that passes the check (made with alice's binding around one of bob's account IDs) reads
// alice's partition only.
func TestListTokenCannotReachAnotherCaller(t *testing.T) {
	f := newLister("alice", 2)
	f.rows["bob"] = []string{"alice-acct-000-bob", "bob-acct-000", "bob-acct-001"}
	api := API{Lister: f, Log: lambdatest.QuietLogger()}

	bobs := list(t, api, listRequest(t, "bob", "/accounts?limit=1"))
	if len(bobs.Accounts) != 1 || bobs.Next == "" {
		t.Fatalf("bob's first page = %+v, want one account and a next link", bobs)
	}
	resp := must(api.List(context.Background(), listRequest(t, "alice", bobs.Next)))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("alice following bob's next link = %d %s, want 400", resp.StatusCode, resp.Body)
	}

	f.calls = nil
	forged := nextURL("/accounts", encodeAccountsToken("alice", "alice-acct-000-bob"), 10)
	page := list(t, api, listRequest(t, "alice", forged))
	if want := []listCall{{owner: "alice", after: "alice-acct-000-bob", limit: 10}}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("read model calls = %+v, want %+v", f.calls, want)
	}
	var ids []string
	for _, a := range page.Accounts {
		ids = append(ids, a["accountId"].(string))
	}
	if want := []string{"alice-acct-001"}; !slices.Equal(ids, want) {
		t.Errorf("alice's page after bob's account = %v, want only her own %v", ids, want)
	}
}

func TestListMapsReadModelErrors(t *testing.T) {
	api := API{Lister: failingLister{}, Log: lambdatest.QuietLogger()}
	resp := must(api.List(context.Background(), listRequest(t, "alice", "/accounts")))
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "throttled") {
		t.Errorf("List() on a read model error = %d %s, want a 500 that echoes nothing", resp.StatusCode, resp.Body)
	}
}

type failingLister struct{}

func (failingLister) List(context.Context, string, string, int) ([]ledger.Summary, bool, error) {
	return nil, false, errors.New("throttled")
}
