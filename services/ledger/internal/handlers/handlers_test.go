package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
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
	req.Body = `{"name":"savings"}`
	req.Headers["content-type"] = "application/json"
	if resp, _ := newAPI(f).Open(context.Background(), req); resp.StatusCode != 400 || len(f.opens) != 1 {
		t.Errorf("Open(unknown field) = %d, opens %d; want 400 and no new account", resp.StatusCode, len(f.opens))
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

type fakeLister struct{ rows []ledger.Summary }

func (f fakeLister) List(context.Context, string) ([]ledger.Summary, error) { return f.rows, nil }

func TestListFromFixture(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"list-accounts.json", &req)
	api := API{Lister: fakeLister{}, Log: lambdatest.QuietLogger()}
	resp, _ := api.List(context.Background(), req)
	if resp.StatusCode != 200 || resp.Body != `{"accounts":[]}` {
		t.Errorf("List() = %d %s, want 200 and an empty list", resp.StatusCode, resp.Body)
	}
}
