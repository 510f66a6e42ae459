package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// QuoteProcessor prices a job with the engine it carries (quotes.Worker).
type QuoteProcessor interface {
	Process(ctx context.Context, job quotes.Job) (quotes.Quote, error)
}

// ProcessQuotes handles a batch from the quotes queue. It has no flag client on purpose: the
// engine comes from the message.
type ProcessQuotes struct {
	Quotes      QuoteProcessor
	Metrics     Metrics
	Correlation correlation.Extractor
	Budget      budget.Budget
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Handle prices each message and reports the ones that failed, so only those come back.
func (h ProcessQuotes) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsbatch.Process(ctx, h.Log, h.Correlation, h.Budget, event, func(ctx context.Context, msg events.SQSMessage) error {
		started := clock.Now(h.Now)
		var job quotes.Job
		if err := json.Unmarshal([]byte(msg.Body), &job); err != nil {
			// No attempt can succeed: the redrive policy moves it to the dead-letter queue.
			return fmt.Errorf("decode quote job from message %s: %w", msg.MessageId, err)
		}
		log := h.Log.With("engine", string(job.Engine), "quoteId", job.QuoteID)
		q, err := h.Quotes.Process(ctx, job)
		if mErr := h.Metrics.Record(canary.Sample{Engine: job.Engine, Route: "quote worker", Latency: clock.Now(h.Now).Sub(started), Failed: err != nil}); mErr != nil {
			log.WarnContext(ctx, "canary metric not written", "error", mErr)
		}
		if err != nil {
			return err // sqsbatch logs it, once, with the message
		}
		log.InfoContext(ctx, "quote priced", slog.Int64("price", q.Price), "sku", q.SKU)
		return nil
	}), nil
}
