package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pricingPattern asks for prices and submits quotes, each with its own Idempotency-Key, and
// checks that every accepted quote was priced, with the engine its 202 named, and that nothing
// reached the dead-letter queue.
type pricingPattern struct {
	s                 *stack
	c                 *client
	url, token, table string
	deadLetterQueue   string

	mu       sync.Mutex
	accepted map[string]string // quote id → engine
}

// pricingSKUs are the products that exist (services/pricing/README.md).
var pricingSKUs = []string{"TEA-001", "TEA-002", "MUG-001", "POT-001"}

func (p *pricingPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

func (p *pricingPattern) name() string { return "pricing" }

func (p *pricingPattern) api() string { return "PricingApiUrl" }

func (p *pricingPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c, p.accepted = s, c, map[string]string{}
	p.url = strings.TrimSuffix(s.outputs["PricingApiUrl"], "/")
	var err error
	if p.table, err = s.tableName(ctx, "QuotesTable"); err != nil {
		return err
	}
	if p.deadLetterQueue, err = s.queueURL(ctx, "QuotesDeadLetterQueue"); err != nil {
		return err
	}
	p.token, err = s.token("soak-pricing")
	return err
}

func (p *pricingPattern) drive(ctx context.Context, i int) bool {
	sku := pricingSKUs[i%len(pricingSKUs)]
	if i%2 == 0 {
		p.c.do(ctx, "GET /prices/{sku}", http.MethodGet, fmt.Sprintf("%s/prices/%s?quantity=%d", p.url, sku, 1+i%50), p.token, "")
		return false // a price leaves no work behind for check to hold
	}
	a := p.c.do(ctx, "POST /quotes", http.MethodPost, p.url+"/quotes", p.token,
		fmt.Sprintf(`{"sku":%q,"quantity":%d}`, sku, 1+i%200), "Idempotency-Key", fmt.Sprintf("soak-quote-%d", i))
	var got struct {
		QuoteID string `json:"quoteId"`
		Engine  string `json:"engine"`
	}
	if a.status != http.StatusAccepted || json.Unmarshal(a.body, &got) != nil || got.QuoteID == "" {
		return true
	}
	p.mu.Lock()
	p.accepted[got.QuoteID] = got.Engine
	p.mu.Unlock()
	return true
}

func (p *pricingPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, engine := range p.accepted {
		item, err := p.s.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"quoteId": &types.AttributeValueMemberS{Value: id}},
		})
		if err != nil {
			return []string{fmt.Sprintf("read quote %s: %v", id, err)}
		}
		if item.Item == nil {
			out = append(out, fmt.Sprintf("quote %s was accepted but never priced", id))
			continue
		}
		if got := stringAttr(item.Item, "engine"); got != engine || numberAttr(item.Item, "price") <= 0 {
			out = append(out, fmt.Sprintf("quote %s priced %d by engine %q; its 202 named %q", id, numberAttr(item.Item, "price"), got, engine))
		}
	}
	if n, err := queueDepth(ctx, p.s, p.deadLetterQueue); err != nil || n > 0 {
		out = append(out, fmt.Sprintf("QuotesDeadLetterQueue holds %d messages (%v); the run poisoned none", n, err))
	}
	return out
}
