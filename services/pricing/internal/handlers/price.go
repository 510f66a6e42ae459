package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/httpapi"
)

// Price handles GET /prices/{sku}?quantity=N.
type Price struct {
	Flags       Flags
	Metrics     Metrics
	Correlation correlation.Extractor
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// priceView is a price as callers see it: integer minor units, never a float.
type priceView struct {
	SKU      string         `json:"sku"`
	Quantity int            `json:"quantity"`
	Price    int64          `json:"price"`
	Currency string         `json:"currency"`
	Engine   pricing.Engine `json:"engine"`
}

// Handle evaluates the flag for the caller, prices with the engine it chose and says which one
// did. The flag is evaluated before input is checked, so refusals carry the engine too.
func (h Price) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	started := clock.Now(h.Now)
	ctx = correlation.NewContext(ctx, h.Correlation.HTTP(req))
	sub, err := httpapi.Subject(req)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.Log, err), nil
	}
	user := userFrom(req, sub)
	engine, log := decide(ctx, h.Flags, h.Log, user)

	resp := h.price(ctx, log, req, user.Plan, engine)
	// Flush before finish, so the recorded latency includes the wait for event delivery.
	h.Flags.Flush(ctx)
	return finish(ctx, h.Metrics, log, "GET /prices/{sku}", engine, started, h.Now, resp), nil
}

func (h Price) price(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, plan string, engine pricing.Engine) events.APIGatewayV2HTTPResponse {
	quantity := 1
	if q, ok := req.QueryStringParameters["quantity"]; ok {
		n, err := strconv.Atoi(q)
		if err != nil {
			n = 0 // reported as out of range below
		}
		quantity = n
	}
	p, err := pricing.Quote(engine, pricing.Request{SKU: req.PathParameters["sku"], Quantity: quantity, Plan: plan})
	if err != nil {
		return httpapi.ErrorResponse(ctx, log, err, skuNotFound)
	}
	log.InfoContext(ctx, "priced", "sku", p.SKU, "quantity", p.Quantity, "price", p.Amount)
	return httpapi.JSON(ctx, log, http.StatusOK, priceView{SKU: p.SKU, Quantity: p.Quantity, Price: p.Amount, Currency: p.Currency, Engine: p.Engine})
}
