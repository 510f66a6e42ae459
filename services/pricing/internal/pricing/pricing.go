package pricing

import (
	"fmt"
	"regexp"

	"github.com/go-serverless/reference/shared/invalid"
)

// Engine names a pricing engine. It is also the feature flag's variation value, the
// X-Pricing-Engine response header, the "engine" log key and the EMF metric dimension, so one word
// follows a request everywhere.
type Engine string

// The engines. V1 is the fallback: whatever cannot decide (flag off, SDK not ready, flag missing,
// an unknown variation) prices with V1.
const (
	V1 Engine = "v1"
	V2 Engine = "v2"
)

// ParseEngine returns the engine named s, or false for anything else.
func ParseEngine(s string) (Engine, bool) {
	switch Engine(s) {
	case V1, V2:
		return Engine(s), true
	}
	return "", false
}

// Errors callers can act on, each naming the field at fault (the HTTP edge answers them 400 with
// the field named, or maps them to another status, as GET /prices/{sku} does for an unknown SKU).
var (
	ErrInvalidSKU      error = &invalid.Param{Name: "sku", Reason: "must be three capital letters, a hyphen and three digits, like TEA-001"}
	ErrUnknownSKU      error = &invalid.Param{Name: "sku", Reason: "names no product"}
	ErrInvalidQuantity error = &invalid.Param{Name: "quantity", Reason: fmt.Sprintf("must be between 1 and %d", MaxQuantity)}
)

// MaxQuantity is the largest quantity one price or quote may be for.
const MaxQuantity = 1000

// Currency is the one currency prices are in.
const Currency = "EUR"

var skuPattern = regexp.MustCompile(`^[A-Z]{3}-[0-9]{3}$`)

// catalogue holds list prices in minor units (cents). A real service reads them from a table;
// a constant keeps the pattern about the flag.
var catalogue = map[string]int64{
	"TEA-001": 450,
	"TEA-002": 725,
	"MUG-001": 1299,
	"POT-001": 3450,
}

// Request is what is being priced and for whom.
type Request struct {
	SKU      string
	Quantity int
	// Plan is the customer's plan (a JWT claim): v2 gives "pro" customers a discount.
	Plan string
}

// Price is a priced request.
type Price struct {
	SKU      string
	Quantity int
	// Amount is the total in minor units of Currency, after discounts.
	Amount   int64
	Currency string
	Engine   Engine
}

// Validate reports what is wrong with r before any engine runs: an SKU of the wrong form, one no
// product has, or a quantity out of range. The catalogue is known wherever this code runs, so a
// request that passes can always be priced: a quote is refused when it is asked for, never
// accepted and then found unpriceable by the worker.
func (r Request) Validate() error {
	if !skuPattern.MatchString(r.SKU) {
		return ErrInvalidSKU
	}
	if _, ok := catalogue[r.SKU]; !ok {
		return ErrUnknownSKU
	}
	if r.Quantity < 1 || r.Quantity > MaxQuantity {
		return ErrInvalidQuantity
	}
	return nil
}

// Quote prices r with engine e.
func Quote(e Engine, r Request) (Price, error) {
	if err := r.Validate(); err != nil {
		return Price{}, err
	}
	total := catalogue[r.SKU] * int64(r.Quantity)
	switch e {
	case V1:
	case V2:
		total = discount(total, discountBasisPoints(r))
	default:
		return Price{}, fmt.Errorf("price %s with engine %q: no such engine", r.SKU, e)
	}
	return Price{SKU: r.SKU, Quantity: r.Quantity, Amount: total, Currency: Currency, Engine: e}, nil
}

// discountBasisPoints is v2's rule: 5% from 10 items, 10% from 100, and 5% more on the pro plan.
func discountBasisPoints(r Request) int64 {
	var bp int64
	switch {
	case r.Quantity >= 100:
		bp = 1000
	case r.Quantity >= 10:
		bp = 500
	}
	if r.Plan == "pro" {
		bp += 500
	}
	return bp
}

// discount takes bp basis points off amount, rounding the discount to the nearest minor unit
// (a half rounds in the customer's favour). Integers only: money is never a float here.
func discount(amount, bp int64) int64 {
	off := (amount*bp + 5000) / 10000
	return amount - off
}
