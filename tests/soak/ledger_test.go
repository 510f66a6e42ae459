package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ledgerAccounts is how many accounts the soak moves money on: few, so commands on one account
// race each other.
const ledgerAccounts = 3

// ledgerPattern deposits and withdraws on a few accounts, each command with an amount no other
// command of the run has, so that every event names the command that made it; half the commands
// carry an Idempotency-Key (and are retried), half do not (and are sent once). It checks, from
// the events table, that versions are contiguous, every balance is the sum of its events, every
// accepted command moved money exactly once and a refused one never; and, from the read model,
// that the projection caught up.
type ledgerPattern struct {
	s                    *stack
	c                    *client
	url, token           string
	events, readModel    string
	projectionFailures   string
	auditDeadLetterQueue string
	accounts             []string

	mu       sync.Mutex
	commands map[int64]ledgerCommand // by amount
}

// ledgerCommand is one deposit or withdrawal and how the API answered it.
type ledgerCommand struct {
	account, kind string
	// status is the final answer; 0 when none arrived.
	status int
}

// accepted counts the commands answered 200: they moved money.
func (p *ledgerPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.commands {
		if c.status == 200 {
			n++
		}
	}
	return n
}

func (p *ledgerPattern) name() string { return "ledger" }

func (p *ledgerPattern) api() string { return "LedgerApiUrl" }

func (p *ledgerPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c, p.commands = s, c, map[int64]ledgerCommand{}
	p.url = strings.TrimSuffix(s.outputs["LedgerApiUrl"], "/")
	var err error
	if p.token, err = s.token("soak-ledger"); err != nil {
		return err
	}
	if p.events, err = s.tableName(ctx, "LedgerEventsTable"); err != nil {
		return err
	}
	if p.readModel, err = s.tableName(ctx, "LedgerAccountsTable"); err != nil {
		return err
	}
	if p.projectionFailures, err = s.queueURL(ctx, "LedgerProjectionFailureQueue"); err != nil {
		return err
	}
	if p.auditDeadLetterQueue, err = s.queueURL(ctx, "LedgerAuditDeadLetterQueue"); err != nil {
		return err
	}
	for len(p.accounts) < ledgerAccounts {
		a := c.do(ctx, "POST /accounts", http.MethodPost, p.url+"/accounts", p.token, "{}")
		var got struct {
			AccountID string `json:"accountId"`
		}
		if a.status != http.StatusCreated || json.Unmarshal(a.body, &got) != nil || got.AccountID == "" {
			return fmt.Errorf("open an account: %d %s", a.status, a.body)
		}
		p.accounts = append(p.accounts, got.AccountID)
	}
	return nil
}

func (p *ledgerPattern) drive(ctx context.Context, i int) bool {
	account := p.accounts[i%len(p.accounts)]
	amount := int64(1000 + i) // unique in the run: the event's amount names its command
	kind := "deposits"
	if i%4 == 3 {
		kind = "withdrawals"
	}
	route := "POST /accounts/{id}/" + kind
	url, body := p.url+"/accounts/"+account+"/"+kind, fmt.Sprintf(`{"amount":%d}`, amount)
	var a answer
	if i%2 == 0 {
		// With an Idempotency-Key a client may retry: the ledger applies the command once.
		a = p.c.do(ctx, route, http.MethodPost, url, p.token, body, "Idempotency-Key", fmt.Sprintf("soak-move-%d", i))
	} else {
		// Without one it must not (a retry is a second command), but the ledger must still apply
		// this one once, whatever its own writes meet (the SDK retries a write whose answer was lost).
		a = p.c.once(ctx, route, http.MethodPost, url, p.token, body)
	}
	p.mu.Lock()
	p.commands[amount] = ledgerCommand{account: account, kind: kind, status: a.status}
	p.mu.Unlock()
	return true
}

func (p *ledgerPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	seen := map[int64]int{}
	for _, account := range p.accounts {
		events, err := p.accountEvents(ctx, account)
		if err != nil {
			return []string{err.Error()}
		}
		var balance, version int64
		for _, e := range events {
			version++
			if e.version != version {
				out = append(out, fmt.Sprintf("account %s: event %d where version %d was due (versions must be contiguous)", account, e.version, version))
				version = e.version
			}
			switch e.kind {
			case "MoneyDeposited":
				balance += e.amount
			case "MoneyWithdrawn":
				balance -= e.amount
			}
			if e.kind != "AccountOpened" {
				seen[e.amount]++
				if c, ok := p.commands[e.amount]; !ok || c.account != account {
					out = append(out, fmt.Sprintf("account %s: event %d moves %d, which no command of the run sent to it", account, e.version, e.amount))
				}
			}
			if e.balanceAfter != nil && *e.balanceAfter != balance {
				out = append(out, fmt.Sprintf("account %s: event %d says balance %d; its events sum to %d", account, e.version, *e.balanceAfter, balance))
			}
		}
		if balance < 0 {
			out = append(out, fmt.Sprintf("account %s: balance %d is negative", account, balance))
		}
		row, err := p.s.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(p.readModel), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{
				"owner": &types.AttributeValueMemberS{Value: "soak-ledger"}, "accountId": &types.AttributeValueMemberS{Value: account},
			},
		})
		if err != nil {
			return []string{fmt.Sprintf("read model of %s: %v", account, err)}
		}
		if b, v := numberAttr(row.Item, "balance"), numberAttr(row.Item, "version"); b != balance || v != version {
			out = append(out, fmt.Sprintf("account %s: read model has balance %d at version %d; the events say %d at %d", account, b, v, balance, version))
		}
	}
	for amount, c := range p.commands {
		switch {
		case seen[amount] > 1:
			out = append(out, fmt.Sprintf("%s of %d on %s moved money %d times", c.kind, amount, c.account, seen[amount]))
		case c.status == http.StatusOK && seen[amount] == 0:
			out = append(out, fmt.Sprintf("%s of %d on %s was answered 200 but moved no money", c.kind, amount, c.account))
		case c.status >= 400 && c.status < 500 && c.status != http.StatusConflict && c.status != http.StatusTooManyRequests && seen[amount] != 0:
			out = append(out, fmt.Sprintf("%s of %d on %s was refused %d but moved money", c.kind, amount, c.account, c.status))
		}
	}
	for name, q := range map[string]string{"LedgerProjectionFailureQueue": p.projectionFailures, "LedgerAuditDeadLetterQueue": p.auditDeadLetterQueue} {
		if n, err := queueDepth(ctx, p.s, q); err != nil || n > 0 {
			out = append(out, fmt.Sprintf("%s holds %d messages (%v); the run poisoned none", name, n, err))
		}
	}
	return out
}

// ledgerEvent is one stored event.
type ledgerEvent struct {
	version, amount int64
	kind            string
	balanceAfter    *int64
}

// accountEvents reads an account's events, oldest first, strongly consistent.
func (p *ledgerPattern) accountEvents(ctx context.Context, account string) ([]ledgerEvent, error) {
	var out []ledgerEvent
	pages := dynamodb.NewQueryPaginator(p.s.dynamodb, &dynamodb.QueryInput{
		TableName: aws.String(p.events), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("accountId = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: account}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", account, err)
		}
		for _, item := range page.Items {
			e := ledgerEvent{version: numberAttr(item, "version"), amount: numberAttr(item, "amount"), kind: stringAttr(item, "type")}
			if _, ok := item["balanceAfter"]; ok {
				b := numberAttr(item, "balanceAfter")
				e.balanceAfter = &b
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// numberAttr returns a number attribute of an item, 0 when absent.
func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
