package handlers

import (
	"errors"
	"net/http"

	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/httpapi"
)

var (
	skuNotFound   = httpapi.ErrorRule{Err: pricing.ErrUnknownSKU, Status: http.StatusNotFound, Title: "Product not found"}
	quoteNotFound = httpapi.ErrorRule{Err: quotes.ErrNotFound, Status: http.StatusNotFound, Title: "Quote not found"}
)

// requestProblem turns a validation error into a 400 naming the field at fault; other errors
// pass through unchanged.
func requestProblem(err error) error {
	field := ""
	switch {
	case errors.Is(err, pricing.ErrInvalidSKU):
		field = "sku"
	case errors.Is(err, pricing.ErrInvalidQuantity):
		field = "quantity"
	default:
		return err
	}
	return &httpapi.Problem{
		Status: http.StatusBadRequest, Title: "Invalid " + field, Detail: err.Error(),
		InvalidParams: []httpapi.InvalidParam{{Name: field, Reason: err.Error()}},
	}
}
