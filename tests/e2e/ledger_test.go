package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// ledger is the service this file tests: its tests call its API and name its functions through it.
const ledger service = "Ledger"

// ledgerAccount is the body of the ledger's account answers.
type ledgerAccount struct {
	AccountID string `json:"accountId"`
	Balance   int64  `json:"balance"`
	Version   int64  `json:"version"`
}

// ledgerUser is a user of its own for one test, so that lists and read models start empty even
// against a deployed stack that earlier runs used.
func ledgerUser(name string) string {
	return fmt.Sprintf("ledger-%s-%d", name, time.Now().UnixNano())
}

func openAccount(t *testing.T, token string, headers ...string) ledgerAccount {
	t.Helper()
	r := ledger.call(t, http.MethodPost, "/accounts", token, "", headers...)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /accounts = %d %s; want 201", r.status, r.body)
	}
	var a ledgerAccount
	r.json(t, &a)
	if a.AccountID == "" || a.Version != 1 || a.Balance != 0 {
		t.Fatalf("POST /accounts body = %s; want a new account at version 1", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/accounts/"+a.AccountID {
		t.Errorf("Location = %q; want /accounts/%s", loc, a.AccountID)
	}
	return a
}

// move posts a deposit or withdrawal and returns the raw answer.
func move(t *testing.T, token, id, kind string, amount int64, headers ...string) response {
	t.Helper()
	return ledger.call(t, http.MethodPost, "/accounts/"+id+"/"+kind, token, fmt.Sprintf(`{"amount":%d}`, amount), headers...)
}

func getAccount(t *testing.T, token, id string) (ledgerAccount, string) {
	t.Helper()
	r := ledger.call(t, http.MethodGet, "/accounts/"+id, token, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /accounts/%s = %d %s; want 200", id, r.status, r.body)
	}
	var a ledgerAccount
	r.json(t, &a)
	return a, r.header.Get("ETag")
}

// history reads every event of an account, following the next links.
func history(t *testing.T, token, id string, pageSize int) []map[string]any {
	t.Helper()
	var all []map[string]any
	path := fmt.Sprintf("/accounts/%s/events?limit=%d", id, pageSize)
	for path != "" {
		r := ledger.call(t, http.MethodGet, path, token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, r.status, r.body)
		}
		var page struct {
			Events []map[string]any `json:"events"`
			Next   string           `json:"next"`
		}
		r.json(t, &page)
		if len(page.Events) > pageSize {
			t.Fatalf("page of %d events; want at most %d", len(page.Events), pageSize)
		}
		all = append(all, page.Events...)
		path = page.Next
	}
	return all
}

func TestLedgerConcurrentWithdrawalsNeverOverdraw(t *testing.T) {
	token := st.token(t, ledgerUser("concurrent"), nil)
	acct := openAccount(t, token)
	if r := move(t, token, acct.AccountID, "deposits", 1000); r.status != http.StatusOK {
		t.Fatalf("deposit = %d %s", r.status, r.body)
	}

	const requests, amount = 20, 70 // 1,400 asked of 1,000: at most 14 can succeed
	statuses := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { statuses[i] = move(t, token, acct.AccountID, "withdrawals", amount).status })
	}
	wg.Wait()
	accepted, refused := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			accepted++
		case http.StatusUnprocessableEntity: // insufficient funds
			refused++
		case http.StatusConflict: // lost every race within the bounded retries
		default:
			t.Errorf("withdrawal %d = %d; want 200, 422 or 409", i, s)
		}
	}
	if accepted == 0 || accepted > 14 {
		t.Fatalf("accepted %d withdrawals of %d; want 1 to 14", accepted, amount)
	}
	// The balance only falls, and it is below 70 only after the 14th withdrawal: a refusal for
	// insufficient funds means all 14 that fit were accepted, not one less.
	if refused > 0 && accepted != 14 {
		t.Fatalf("%d refused for insufficient funds with only %d accepted; want 14 accepted before any refusal", refused, accepted)
	}

	got, etag := getAccount(t, token, acct.AccountID)
	wantVersion := int64(2 + accepted)
	if got.Balance != 1000-int64(accepted*amount) || got.Version != wantVersion || got.Balance < 0 {
		t.Errorf("account = %+v; want balance %d at version %d", got, 1000-accepted*amount, wantVersion)
	}
	if etag != strconv.Quote(strconv.FormatInt(wantVersion, 10)) {
		t.Errorf("ETag = %s; want \"%d\"", etag, wantVersion)
	}
	events := history(t, token, acct.AccountID, 5)
	if int64(len(events)) != wantVersion {
		t.Fatalf("history has %d events; want %d", len(events), wantVersion)
	}
	for i, e := range events {
		if e["version"] != float64(i+1) {
			t.Fatalf("event %d has version %v; want %d (contiguous, none lost or duplicated)", i, e["version"], i+1)
		}
	}
}

func TestLedgerIdempotencyKeyAndIfMatch(t *testing.T) {
	token := st.token(t, ledgerUser("idempotency"), nil)
	acct := openAccount(t, token)

	first := move(t, token, acct.AccountID, "deposits", 500, "Idempotency-Key", "salary-nov")
	again := move(t, token, acct.AccountID, "deposits", 500, "Idempotency-Key", "salary-nov")
	if first.status != http.StatusOK || again.status != http.StatusOK || string(first.body) != string(again.body) {
		t.Fatalf("deposit and its retry = %d %s / %d %s; want the same 200", first.status, first.body, again.status, again.body)
	}
	wantProblem(t, move(t, token, acct.AccountID, "deposits", 600, "Idempotency-Key", "salary-nov"), http.StatusUnprocessableEntity)
	got, etag := getAccount(t, token, acct.AccountID)
	if got.Balance != 500 || got.Version != 2 || etag != `"2"` {
		t.Fatalf("account = %+v ETag %s; want one deposit: balance 500 at version 2", got, etag)
	}

	// A client that read version 2 withdraws only if nothing happened since.
	if r := move(t, token, acct.AccountID, "withdrawals", 100, "If-Match", etag); r.status != http.StatusOK {
		t.Fatalf("withdrawal If-Match %s = %d %s; want 200", etag, r.status, r.body)
	}
	wantProblem(t, move(t, token, acct.AccountID, "withdrawals", 100, "If-Match", etag), http.StatusPreconditionFailed)
	if got, _ := getAccount(t, token, acct.AccountID); got.Balance != 400 || got.Version != 3 {
		t.Errorf("account = %+v; want balance 400 at version 3: the stale If-Match wrote nothing", got)
	}
}

func TestLedgerBadInputWritesNothing(t *testing.T) {
	token := st.token(t, ledgerUser("bad-input"), nil)
	acct := openAccount(t, token)
	if r := move(t, token, acct.AccountID, "deposits", 100); r.status != http.StatusOK {
		t.Fatalf("deposit = %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"amount":0}`, `{"amount":-1}`, `{"amount":1.5}`, `{"amount":"5"}`, `{}`, `{"amount":5,"to":"x"}`, `not json`, `{"amount":100000001}`} {
		p := wantProblem(t, ledger.call(t, http.MethodPost, "/accounts/"+acct.AccountID+"/withdrawals", token, body), http.StatusBadRequest)
		if len(p.InvalidParams) == 0 && body != `not json` {
			t.Errorf("%s: problem %+v names no invalid param", body, p)
		}
	}
	wantProblem(t, move(t, token, acct.AccountID, "withdrawals", 10, "If-Match", "yesterday"), http.StatusBadRequest)
	p := wantProblem(t, move(t, token, acct.AccountID, "withdrawals", 101), http.StatusUnprocessableEntity)
	if p.Title != "Insufficient funds" {
		t.Errorf("title = %q; want Insufficient funds", p.Title)
	}
	if got, _ := getAccount(t, token, acct.AccountID); got.Balance != 100 || got.Version != 2 {
		t.Errorf("account = %+v; want balance 100 at version 2: a refused request wrote", got)
	}
}

func TestLedgerOtherUsersAccountIsNotFound(t *testing.T) {
	alice := st.token(t, ledgerUser("alice"), nil)
	mallory := st.token(t, ledgerUser("mallory"), nil)
	acct := openAccount(t, alice)
	wantProblem(t, ledger.call(t, http.MethodGet, "/accounts/"+acct.AccountID, mallory, ""), http.StatusNotFound)
	wantProblem(t, ledger.call(t, http.MethodGet, "/accounts/"+acct.AccountID+"/events", mallory, ""), http.StatusNotFound)
	wantProblem(t, move(t, mallory, acct.AccountID, "deposits", 5), http.StatusNotFound)
	wantProblem(t, ledger.call(t, http.MethodGet, "/accounts/no-such-account", alice, ""), http.StatusNotFound)
	if got, _ := getAccount(t, alice, acct.AccountID); got.Version != 1 {
		t.Errorf("account = %+v; want untouched at version 1", got)
	}
}

// TestLedgerProjection follows the stream: the read model behind GET /accounts catches up, and
// the domain events reach the topic's audit queue with the request's correlation id.
func TestLedgerProjection(t *testing.T) {
	token := st.token(t, ledgerUser("projection"), nil)
	correlationID := fmt.Sprintf("ledger-e2e-%d", time.Now().UnixNano())
	acct := openAccount(t, token, "x-correlation-id", correlationID)
	for _, step := range []struct {
		kind   string
		amount int64
	}{{"deposits", 300}, {"withdrawals", 120}} {
		if r := move(t, token, acct.AccountID, step.kind, step.amount, "x-correlation-id", correlationID); r.status != http.StatusOK {
			t.Fatalf("%s = %d %s", step.kind, r.status, r.body)
		}
	}

	var list struct {
		Accounts []ledgerAccount `json:"accounts"`
	}
	eventually(t, 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := ledger.call(t, http.MethodGet, "/accounts", token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /accounts = %d %s", r.status, r.body)
		}
		r.json(t, &list)
		return len(list.Accounts) == 1 && list.Accounts[0].Version == 3, fmt.Sprintf("GET /accounts = %s; want the account at version 3", r.body)
	})
	if want := (ledgerAccount{AccountID: acct.AccountID, Balance: 180, Version: 3}); list.Accounts[0] != want {
		t.Errorf("read model = %+v; want %+v", list.Accounts[0], want)
	}

	queue := st.outputs["LedgerAuditQueueUrl"]
	seen := map[float64]string{} // version → type, for this account's events only
	// No pause between polls: each receive waits up to a second for messages.
	eventually(t, 30*time.Second, 0, func() (bool, string) {
		out, err := st.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("receive from the audit queue: %v", err)
		}
		for _, m := range out.Messages {
			var e map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatalf("audit message %q is not a raw domain event: %v", aws.ToString(m.Body), err)
			}
			if e["accountId"] != acct.AccountID {
				continue // another test's account
			}
			if got := aws.ToString(m.MessageAttributes["correlation-id"].StringValue); got != correlationID {
				t.Errorf("event %v carries correlation id %q; want %q", e["version"], got, correlationID)
			}
			if _, leaked := e["owner"]; leaked {
				t.Errorf("published event %v carries its owner", e)
			}
			seen[e["version"].(float64)] = e["type"].(string)
			_, _ = st.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle})
		}
		return len(seen) >= 3, fmt.Sprintf("published events of account %s = %v; want 3", acct.AccountID, seen)
	})
	want := map[float64]string{1: "AccountOpened", 2: "MoneyDeposited", 3: "MoneyWithdrawn"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("published events = %v; want %v", seen, want)
	}
}
