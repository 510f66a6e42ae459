package invalid_test

import (
	"errors"
	"fmt"

	"github.com/go-serverless/reference/shared/invalid"
)

type order struct {
	Quantity int
}

// validate is a domain rule: it says what is wrong in the caller's terms and nothing about HTTP.
func (o order) validate() error {
	if o.Quantity < 1 || o.Quantity > 1000 {
		return &invalid.Param{Name: "quantity", Reason: "must be between 1 and 1000"}
	}
	return nil
}

func Example() {
	err := fmt.Errorf("place order: %w", order{Quantity: 0}.validate())

	// The HTTP edge finds the behaviour, whatever wraps it (see httpapi.ErrorResponse).
	var p interface{ InvalidParam() (name, reason string) }
	if errors.As(err, &p) {
		name, reason := p.InvalidParam()
		fmt.Println(name, reason)
	}
	fmt.Println(err)
	// Output:
	// quantity must be between 1 and 1000
	// place order: invalid quantity: must be between 1 and 1000
}
