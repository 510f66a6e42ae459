package fanout

import (
	"fmt"
	"time"
)

// QueueRetries is how an SQS queue retries a message: it is received at most MaxReceiveCount
// times (its RedrivePolicy's maxReceiveCount), and each receive hides it for VisibilityTimeout.
type QueueRetries struct {
	MaxReceiveCount   int
	VisibilityTimeout time.Duration
}

// Span is the longest a message can spend in the queue's retries, from the moment it is sent
// there: MaxReceiveCount × VisibilityTimeout. A receive that fails leaves the message hidden for
// the whole visibility timeout, and SQS moves it to the dead-letter queue only at the receive after
// the last one, once that last timeout has run out; a receive that succeeds ends within its
// consumer's Timeout, which the visibility timeout exceeds six times over.
func (q QueueRetries) Span() time.Duration {
	return time.Duration(q.MaxReceiveCount) * q.VisibilityTimeout
}

// Sizing is what a batch's deadline is derived from: how long the fan-out may take, and the
// retries of the three queues a subtask's outcome can travel through before the batch is done.
type Sizing struct {
	// PublishWithin is how long the fan-out may take (PUBLISH_WITHIN_SECONDS): by then every
	// subtask is on the tasks queue, or the batch is FAILED "fan-out interrupted".
	PublishWithin time.Duration
	// Tasks is FanoutTasksQueue, which feeds ProcessSubtaskFunction.
	Tasks QueueRetries
	// TasksDeadLetter is FanoutTasksDeadLetterQueue, which feeds RecordFailedSubtaskFunction: a
	// subtask that failed every receive on Tasks is recorded FAILED from there.
	TasksDeadLetter QueueRetries
	// Sink is FanoutSinkQueue, which feeds AggregateBatchFunction.
	Sink QueueRetries
}

// DeadlineMargin is added to the queues' retries in Sizing.Deadline. It covers what the retries
// do not count: Lambda's pollers picking each message up once it is visible (a long poll returns
// as soon as one is, and the chain Deadline counts is 3 + 5 + 3 = 11 receives at the production
// sizing), the sink's own work, and the clocks of the functions that stamp a batch's start and
// judge its deadline, which are not the same host's.
const DeadlineMargin = time.Minute

// Deadline is how long after submission a batch may still be unfinished before it is FAILED,
// "deadline passed". A batch must not end that way while a queue still has a retry to give it, so
// the deadline is the longest chain of retries a batch can go through, one queue after another:
//
//	deadline = PublishWithin                  the last subtask is sent at the end of the fan-out's window
//	         + Tasks.Span()                   it fails every receive; SQS dead-letters it when the last visibility timeout ends
//	         + TasksDeadLetter.Span()         the failure is recorded, at worst on the recorder's last receive
//	         + Sink.Span()                    that record completed the batch; the sink runs, at worst on its last receive
//	         + DeadlineMargin
//
// At the production sizing (DefaultSizing, the numbers of template.yaml's Mappings):
//
//	60 s + 3 × 90 s + 5 × 60 s + 3 × 360 s + 60 s = 60 + 270 + 300 + 1,080 + 60 = 1,770 s (29.5 minutes)
//
// A subtask that succeeds takes a shorter chain (no dead-letter queue), so this bounds it too.
//
// The chain could be a little tighter: a message dead-lettered from Tasks does need its last
// visibility timeout to run out, but the recorder and the sink succeed on their last receive
// within their functions' Timeouts, (n-1) × VisibilityTimeout + Timeout each (1,420 s in all).
// That would save six minutes of a backstop that only matters once something is lost, at the cost
// of two more numbers (the Timeouts) kept in step; a receive count and a visibility timeout per
// queue are what the template's rule already holds the code to.
//
// What the deadline does not count is waiting behind other work: the retries start when a message
// is first received. A hundred items run at once (5 invocations of 20), so 10,000 items of 5 s
// take about 500 s of the 1,770; behind other batches on the queue, a batch can still run out of
// time and end FAILED at its deadline.
func (s Sizing) Deadline() time.Duration {
	return s.PublishWithin + s.Tasks.Span() + s.TasksDeadLetter.Span() + s.Sink.Span() + DeadlineMargin
}

// Validate refuses a sizing that would make the deadline meaningless: every window and every
// queue's retries must be positive.
func (s Sizing) Validate() error {
	if s.PublishWithin <= 0 {
		return fmt.Errorf("publish window %s is not positive", s.PublishWithin)
	}
	for _, q := range []struct {
		name string
		QueueRetries
	}{{"tasks queue", s.Tasks}, {"tasks dead-letter queue", s.TasksDeadLetter}, {"sink queue", s.Sink}} {
		if q.MaxReceiveCount < 1 || q.VisibilityTimeout <= 0 {
			return fmt.Errorf("%s: maxReceiveCount %d and visibility timeout %s must both be positive", q.name, q.MaxReceiveCount, q.VisibilityTimeout)
		}
	}
	return nil
}

// The production sizing, which SubmitBatchFunction's main falls back to when its environment does
// not say otherwise. template.yaml writes these numbers once, in Mappings (Fanout), and both the
// queues and the functions' environment variables read them with !FindInMap: the template rule
// RetrySettingsAreWrittenOnce (tests/template) keeps the code's variables and the queues on the
// same entries, and TestSizingMatchesTemplate keeps these constants equal to the entries.
const (
	// DefaultPublishWithin is SubmitBatchFunction's PUBLISH_WITHIN_SECONDS: longer than its 25 s
	// Timeout, so a fan-out is declared interrupted only once it cannot still be running.
	DefaultPublishWithin = time.Minute
	// DefaultTasksMaxReceiveCount is FanoutTasksQueue's maxReceiveCount.
	DefaultTasksMaxReceiveCount = 3
	// DefaultTasksVisibilityTimeout is FanoutTasksQueue's VisibilityTimeout: 6 × WorkerTimeout.
	DefaultTasksVisibilityTimeout = 6 * WorkerTimeout
	// DefaultTasksDeadLetterMaxReceiveCount is FanoutTasksDeadLetterQueue's maxReceiveCount.
	DefaultTasksDeadLetterMaxReceiveCount = 5
	// DefaultTasksDeadLetterVisibilityTimeout is FanoutTasksDeadLetterQueue's VisibilityTimeout:
	// 6 × RecordFailedSubtaskFunction's Timeout (10 s).
	DefaultTasksDeadLetterVisibilityTimeout = 60 * time.Second
	// DefaultSinkMaxReceiveCount is FanoutSinkQueue's maxReceiveCount.
	DefaultSinkMaxReceiveCount = 3
	// DefaultSinkVisibilityTimeout is FanoutSinkQueue's VisibilityTimeout: 6 × AggregateBatchFunction's
	// Timeout (60 s).
	DefaultSinkVisibilityTimeout = 360 * time.Second
)

// DefaultSizing is the production sizing, built from the constants above.
func DefaultSizing() Sizing {
	return Sizing{
		PublishWithin:   DefaultPublishWithin,
		Tasks:           QueueRetries{MaxReceiveCount: DefaultTasksMaxReceiveCount, VisibilityTimeout: DefaultTasksVisibilityTimeout},
		TasksDeadLetter: QueueRetries{MaxReceiveCount: DefaultTasksDeadLetterMaxReceiveCount, VisibilityTimeout: DefaultTasksDeadLetterVisibilityTimeout},
		Sink:            QueueRetries{MaxReceiveCount: DefaultSinkMaxReceiveCount, VisibilityTimeout: DefaultSinkVisibilityTimeout},
	}
}
