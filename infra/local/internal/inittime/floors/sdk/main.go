// Command sdk is the SDK floor of the cold-start benchmark: what every function of the repository
// does before its own work (the AWS configuration from the environment, the JSON logger) plus
// one DynamoDB client. A function's cold start above this floor is what it adds itself: the
// clients, packages and calls of its own cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(context.Context) (string, error) {
		// The client is used, as a function's would be, so the linker keeps all of it.
		return db.Options().Region, nil
	})
}
