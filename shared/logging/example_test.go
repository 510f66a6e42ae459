package logging_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/logging"
)

func Example() {
	// In a function, logging.New() builds this on lambdacontext's handler.
	// Here a plain JSON handler without timestamps keeps the output stable.
	inner := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(logging.NewHandler(inner, slog.LevelInfo))

	plain := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-1"})
	sampled := correlation.NewContext(context.Background(), correlation.IDs{CorrelationID: "c-2", DebugSampled: true})

	log.DebugContext(plain, "dropped: chain not sampled")
	log.DebugContext(sampled, "kept: chain sampled")
	log.InfoContext(plain, "job accepted")
	// Output:
	// {"level":"DEBUG","msg":"kept: chain sampled","correlationId":"c-2","debugSampled":true}
	// {"level":"INFO","msg":"job accepted","correlationId":"c-1"}
}
