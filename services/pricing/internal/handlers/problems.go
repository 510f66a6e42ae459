package handlers

import (
	"net/http"
	"time"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/httpapi"
	"github.com/go-serverless/reference/shared/idempotency"
)

// How the pricing routes answer domain errors. An invalid SKU or quantity needs no rule: the
// domain names the field (pricing.ErrInvalidSKU is an *invalid.Param) and the edge answers 400.
var (
	// skuNotFound is for GET /prices/{sku}, where the SKU names the resource. In the body of
	// POST /quotes it is a field at fault like any other: 400 naming sku.
	skuNotFound   = httpapi.ErrorRule{Err: pricing.ErrUnknownSKU, Status: http.StatusNotFound, Title: "Product not found"}
	quoteNotFound = httpapi.ErrorRule{Err: quotes.ErrNotFound, Status: http.StatusNotFound, Title: "Quote not found"}
	keyReused     = httpapi.ErrorRule{Err: idempotency.ErrFingerprintMismatch, Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused for a different request"}
	// keyInProgress: the first request with the key finishes within submitClaim, usually in well
	// under a second; its answer is then replayed.
	keyInProgress = httpapi.ErrorRule{Err: idempotency.ErrInProgress, Status: http.StatusConflict, Title: "A request with this Idempotency-Key is in progress", RetryAfter: RetryAfterSeconds * time.Second}
)
