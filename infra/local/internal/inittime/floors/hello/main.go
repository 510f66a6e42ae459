// Command hello is the hello floor of the cold-start benchmark: a bare aws-lambda-go function
// with nothing to initialise. No Go function can start faster on the same runtime, so every
// function's cold start is reported as a multiple of this one's.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
