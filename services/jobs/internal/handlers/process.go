package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/jobs/internal/jobs"
	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/correlation"
	"github.com/go-serverless/reference/shared/sqsbatch"
)

// TaskProcessor runs the job a task names (jobs.Processor).
type TaskProcessor interface {
	Process(ctx context.Context, task jobs.Task, attempt int) error
}

// Process handles a batch from the jobs queue and reports the messages that failed, so only
// those are delivered again.
type Process struct {
	Jobs        TaskProcessor
	Correlation correlation.Extractor
	// Budget decides when to stop starting messages: those left when the invocation's time runs
	// short are reported as failures without running, and come back in another invocation.
	Budget budget.Budget
	Log    *slog.Logger
}

// Handle processes each message; see sqsbatch for how failures and the time budget are handled.
func (h Process) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	// If the invocation gets within a second of its deadline anyway (the work should have been
	// interrupted at Budget's margin), leave a line saying which job it was on.
	watch := budget.Watch(ctx, h.Log, budget.Budget{Margin: time.Second})
	defer watch.Stop()
	return sqsbatch.Process(ctx, h.Log, h.Correlation, h.Budget, event, func(ctx context.Context, msg events.SQSMessage) error {
		watch.Doing("message " + msg.MessageId)
		var task jobs.Task
		if err := json.Unmarshal([]byte(msg.Body), &task); err != nil {
			// Cannot succeed on any attempt: the queue's redrive policy moves it to the dead-letter queue.
			return fmt.Errorf("decode task from message %s: %w", msg.MessageId, err)
		}
		attempt, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
		if err != nil {
			attempt = 1
		}
		watch.Doing("job " + task.JobID)
		return h.Jobs.Process(ctx, task, attempt)
	}), nil
}
