package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/metrics"
)

// ResultReader is the part of the store the sink uses.
type ResultReader interface {
	Get(ctx context.Context, id string) (Batch, error)
	// Results calls fn for every subtask result of the batch, page by page.
	Results(ctx context.Context, batchID string, fn func(SubtaskResult) error) error
	// Finish moves an AGGREGATING batch to its final status; ErrConflict otherwise.
	Finish(ctx context.Context, id string, status Status, result Result, now time.Time) error
}

// Aggregator is the sink: it joins every subtask result of a batch into the batch's result.
type Aggregator struct {
	Results ResultReader
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics records the duration of each batch this sink finishes; nil records nothing.
	Metrics Metrics
}

// Aggregate aggregates batch id if it is AGGREGATING, and does nothing otherwise: a second request
// for a batch already finished (a duplicated sink message, a re-trigger after a crash) changes
// nothing, and its "batch aggregated" line is logged only by the run whose final write won.
func (a Aggregator) Aggregate(ctx context.Context, id string) error {
	b, err := a.Results.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("read batch %s to aggregate: %w", id, err)
	}
	if b.Status != StatusAggregating {
		a.Log.InfoContext(ctx, "batch not aggregating; nothing to do", "batchId", id, "status", b.Status)
		return nil
	}
	var result Result
	err = a.Results.Results(ctx, id, func(r SubtaskResult) error {
		switch r.Status {
		case SubtaskDone:
			result.Succeeded++
			result.WorkMS += int64(r.DurationMS)
		case SubtaskFailed:
			result.Failed++
			if len(result.FailedItems) < MaxFailedItemsListed {
				result.FailedItems = append(result.FailedItems, FailedItem{ID: r.ItemID, Reason: r.Reason})
			} else {
				result.FailedItemsTruncated = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The counters and the results were written in the same transactions, so they must agree; if
	// they do not, something wrote around the transaction, and retrying will not fix it silently.
	if got := result.Succeeded + result.Failed; got != b.Total || result.Succeeded != b.Completed || result.Failed != b.Failed {
		return fmt.Errorf("batch %s: %d results (%d succeeded, %d failed) but counters say total %d, completed %d, failed %d",
			id, got, result.Succeeded, result.Failed, b.Total, b.Completed, b.Failed)
	}
	status := StatusSucceeded
	if result.Failed > 0 {
		status = StatusCompletedWithErrors
	}
	now := clock.Now(a.Now).UTC()
	err = a.Results.Finish(ctx, id, status, result, now)
	if errors.Is(err, ErrConflict) {
		a.Log.InfoContext(ctx, "batch finished by another sink run", "batchId", id)
		return nil
	}
	if err != nil {
		return err
	}
	if a.Metrics != nil {
		a.Metrics.Add(MetricBatchDuration, metrics.Milliseconds, float64(now.Sub(b.StartedAt).Milliseconds()))
	}
	a.Log.InfoContext(ctx, "batch aggregated", "batchId", id, "status", status,
		"succeeded", result.Succeeded, "failed", result.Failed)
	return nil
}
