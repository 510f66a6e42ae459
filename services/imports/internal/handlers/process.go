package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/services/imports/internal/imports"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
)

// LinkProcessor runs one link of an import's chain (imports.Processor).
type LinkProcessor interface {
	Process(ctx context.Context, link imports.Link) error
}

// Process handles one invocation of ProcessImportFunction: a link of the chain, sent by the
// start of an import or by the previous invocation.
type Process struct {
	Imports     LinkProcessor
	Correlation correlation.Extractor
	Log         *slog.Logger
}

// Handle runs the link. An error is returned only when a retry can help; Lambda then delivers
// the same link again, and after MaximumRetryAttempts sends it to the OnFailure queue.
func (h Process) Handle(ctx context.Context, link imports.Link) error {
	ctx = correlation.NewContext(ctx, h.Correlation.Payload(link.Carrier))
	if link.ImportID == "" {
		// Cannot succeed on any attempt; retrying would only delay the same answer.
		h.Log.ErrorContext(ctx, "link without importId dropped")
		return nil
	}
	// If the invocation gets within a second of its deadline anyway, say where it was.
	watch := budget.Watch(ctx, h.Log, budget.Budget{Margin: time.Second})
	defer watch.Stop()
	watch.Doing(fmt.Sprintf("import %s from hop %d", link.ImportID, link.Depth))
	return h.Imports.Process(ctx, link)
}
