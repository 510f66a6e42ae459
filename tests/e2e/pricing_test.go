package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The users of services/pricing/flags.json that the pricing tests rely on; the pricing module's
// TestCommittedFlags pins their variants: a beta-plan user matches the targeting rule (v2), and
// pricing-v1-user falls in the 90% of the rollout that stays on v1.
const (
	pricingBetaUser = "pricing-beta-user"
	pricingV1User   = "pricing-v1-user"
)

// pricing is the service this file tests: its tests call its API and name its functions through it.
const pricing service = "Pricing"

type priceAnswer struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	Engine   string `json:"engine"`
}

// TestPricingEngineFollowsTheFlag: on the local stack (flags file: beta rule, 10% rollout), a
// beta user is priced by v2 and a user outside the rollout by v1; the header, the body and the
// EMF metric line all name the engine.
func TestPricingEngineFollowsTheFlag(t *testing.T) {
	requireLocal(t) // the flag's targeting is the committed file's; a deployed stack has LaunchDarkly's
	beta := st.token(t, pricingBetaUser, map[string]string{"plan": "beta", "region": "eu-west-1"})
	v1 := st.token(t, pricingV1User, map[string]string{"plan": "free"})

	tests := []struct {
		name, token, engine string
		price               int64
	}{
		{name: "beta user", token: beta, engine: "v2", price: 6887},
		{name: "user outside the rollout", token: v1, engine: "v1", price: 7250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // sticky: the same answer every time
				r := pricing.call(t, http.MethodGet, "/prices/TEA-002?quantity=10", tt.token, "")
				if r.status != http.StatusOK {
					t.Fatalf("GET /prices/TEA-002 = %d %s; want 200", r.status, r.body)
				}
				var got priceAnswer
				r.json(t, &got)
				want := priceAnswer{SKU: "TEA-002", Quantity: 10, Price: tt.price, Currency: "EUR", Engine: tt.engine}
				if got != want || r.header.Get("X-Pricing-Engine") != tt.engine {
					t.Fatalf("answer %+v, X-Pricing-Engine %q; want %+v", got, r.header.Get("X-Pricing-Engine"), want)
				}
			}
		})
	}
	if n := len(logged(`"_aws"`, `"Engine":"v2"`, `"Route":"GET /prices/{sku}"`)); n == 0 {
		st.logs.Dump(t.Output())
		t.Error("no EMF metric line for engine v2")
	}
	if n := len(logged(`"message":"priced"`, `"engine":"v2"`)); n == 0 {
		t.Error("no log line carrying engine v2")
	}
}

func TestPricingRefusals(t *testing.T) {
	token := st.token(t, pricingV1User, map[string]string{"plan": "free"})
	p := wantProblem(t, pricing.call(t, http.MethodGet, "/prices/tea-2", token, ""), http.StatusBadRequest)
	if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "sku" {
		t.Errorf("problem %+v; want invalid-params naming sku", p)
	}
	r := pricing.call(t, http.MethodGet, "/prices/ZZZ-999", token, "")
	wantProblem(t, r, http.StatusNotFound)
	if r.header.Get("X-Pricing-Engine") == "" {
		t.Error("a refusal without X-Pricing-Engine")
	}
	wantProblem(t, pricing.call(t, http.MethodGet, "/prices/TEA-001?quantity=0", token, ""), http.StatusBadRequest)
	wantProblem(t, pricing.call(t, http.MethodPost, "/quotes", token, `{"sku":"TEA-001"}`), http.StatusBadRequest)
	wantProblem(t, pricing.call(t, http.MethodGet, "/quotes/0123456789abcdef0123456789abcdef", token, ""), http.StatusNotFound)
	if r := pricing.call(t, http.MethodGet, "/prices/TEA-001", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d; want 401", r.status)
	}
}

type quoteAnswer struct {
	QuoteID  string `json:"quoteId"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"`
	Engine   string `json:"engine"`
}

// waitForQuote polls GET /quotes/{id} until the worker has priced it.
func waitForQuote(t *testing.T, token, id string) quoteAnswer {
	t.Helper()
	var q quoteAnswer
	eventually(t, 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := pricing.call(t, http.MethodGet, "/quotes/"+id, token, "")
		if r.status == http.StatusNotFound {
			return false, "quote " + id + " not priced"
		}
		if r.status != http.StatusOK {
			t.Fatalf("GET /quotes/%s = %d %s", id, r.status, r.body)
		}
		r.json(t, &q)
		if r.header.Get("X-Pricing-Engine") != q.Engine {
			t.Errorf("X-Pricing-Engine %q; want the quote's engine %q", r.header.Get("X-Pricing-Engine"), q.Engine)
		}
		return true, ""
	})
	return q
}

// TestPricingQuoteKeepsItsEngine: the engine decided at POST /quotes is the one that prices the
// quote. The last case hands the worker a job carrying v2 for a user the flag puts on v1, as if
// the rollout had moved while the job waited: the worker prices it with v2, because it never
// asks the flag.
func TestPricingQuoteKeepsItsEngine(t *testing.T) {
	requireLocal(t)
	beta := st.token(t, pricingBetaUser, map[string]string{"plan": "beta"})
	v1 := st.token(t, pricingV1User, map[string]string{"plan": "free"})

	for _, tt := range []struct {
		name, token, engine string
		price               int64
	}{
		{name: "beta user", token: beta, engine: "v2", price: 116910},
		{name: "user outside the rollout", token: v1, engine: "v1", price: 129900},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := pricing.call(t, http.MethodPost, "/quotes", tt.token, `{"sku":"MUG-001","quantity":100}`)
			var accepted struct {
				QuoteID string `json:"quoteId"`
				Engine  string `json:"engine"`
			}
			r.json(t, &accepted)
			if r.status != http.StatusAccepted || accepted.Engine != tt.engine || r.header.Get("X-Pricing-Engine") != tt.engine {
				t.Fatalf("POST /quotes = %d %s; want 202 by %s", r.status, r.body, tt.engine)
			}
			if r.header.Get("Location") != "/quotes/"+accepted.QuoteID {
				t.Errorf("Location %q; want /quotes/%s", r.header.Get("Location"), accepted.QuoteID)
			}
			q := waitForQuote(t, tt.token, accepted.QuoteID)
			if q.Engine != tt.engine || q.Price != tt.price {
				t.Errorf("quote %+v; want priced by %s at %d", q, tt.engine, tt.price)
			}
		})
	}

	t.Run("flag moved while queued", func(t *testing.T) {
		id := fmt.Sprintf("%032x", time.Now().UnixNano())
		body, _ := json.Marshal(map[string]any{"quoteId": id, "owner": pricingV1User, "sku": "MUG-001", "quantity": 100, "plan": "free", "engine": "v2"})
		_, err := st.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(st.outputs["QuotesQueueUrl"]), MessageBody: aws.String(string(body)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"pricing-engine": {DataType: aws.String("String"), StringValue: aws.String("v2")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := pricing.call(t, http.MethodGet, "/prices/MUG-001?quantity=100", v1, ""); r.header.Get("X-Pricing-Engine") != "v1" {
			t.Fatalf("the flag gives %s %q; the test needs a user the flag puts on v1", pricingV1User, r.header.Get("X-Pricing-Engine"))
		}
		q := waitForQuote(t, v1, id)
		if q.Engine != "v2" || q.Price != 116910 {
			t.Errorf("quote %+v; want the carried engine v2 (116910), not a new evaluation (v1)", q)
		}
	})
}
