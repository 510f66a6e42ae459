package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-serverless/reference/shared/budget"
	"github.com/go-serverless/reference/shared/clock"
	"github.com/go-serverless/reference/shared/correlation"
)

// Defaults for a Processor that leaves them unset.
const (
	DefaultBatchLines    = 100
	DefaultBatchEstimate = 2 * time.Second
	DefaultMaxDepth      = 100
	DefaultWindow        = 4 << 20
)

// CallTimeout is the Timeout of the budget.Calls every import function gives its adapters
// (dynamostore.Store, s3objects.Objects, lambdainvoke.Continuer), in place of
// budget.DefaultCallTimeout (2 s). Imports make bigger calls than the other services' point reads
// and writes: a BatchWriteItem of 25 orders with its retries of unprocessed items, and a Range GET
// whose first byte comes from a large object, so they get a second more before a call is
// abandoned and the batch handed on.
const CallTimeout = 3 * time.Second

// Store keeps imports, their checkpoints and what they wrote (dynamostore.Store).
type Store interface {
	Create(ctx context.Context, imp Import) error
	Get(ctx context.Context, id string) (Import, error)
	// Claim counts an invocation of hop depth for a RUNNING import and returns the import as it
	// is now; ErrConflict when the import is finished or a later hop has claimed it.
	Claim(ctx context.Context, id string, depth int, now time.Time) (Import, error)
	// WriteOrders and WriteRejects write items keyed by import and line: writing one again
	// overwrites it.
	WriteOrders(ctx context.Context, orders []Order) error
	WriteRejects(ctx context.Context, id string, rejects []Reject) error
	// Checkpoint moves the import's checkpoint from offset from to cp; ErrConflict when the
	// checkpoint is no longer at from (another invocation progressed) or the import is finished.
	Checkpoint(ctx context.Context, id string, from int64, cp Checkpoint) error
	// Fail records FAILED with reason for a RUNNING import no later hop than depth has claimed;
	// ErrConflict otherwise.
	Fail(ctx context.Context, id string, depth int, reason string, now time.Time) error
	// Rejects returns the first rejects of an import, by line.
	Rejects(ctx context.Context, id string, limit int) ([]Reject, error)
}

// Checkpoint is the progress one batch adds.
type Checkpoint struct {
	// Offset and Line are where the next batch starts.
	Offset, Line int64
	// Accepted and Rejected are added to the import's counts.
	Accepted, Rejected int64
	// Done marks the import SUCCEEDED: the batch ended at the end of the file.
	Done bool
	// Hop, on the first checkpoint of an invocation, is added to the import's Hops: where the
	// invocation started. It is written with the checkpoint, so only an invocation that moved
	// it is recorded, once.
	Hop *Hop
	Now time.Time
}

// Objects opens the file of an import (s3objects.Objects).
type Objects interface {
	// Open streams length bytes of the object from byte offset, which is before its end;
	// ErrObjectChanged when its ETag is no longer etag.
	Open(ctx context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error)
}

// Continuer hands the rest of an import to the next invocation of the chain (lambdainvoke.Continuer).
type Continuer interface {
	Continue(ctx context.Context, link Link) error
}

// Processor is one invocation of the chain: it resumes an import at its checkpoint, imports
// batches while the next one fits in the invocation's remaining time, and then hands the rest
// to the next invocation.
type Processor struct {
	Store   Store
	Objects Objects
	Next    Continuer
	// Budget decides whether another batch fits: its Margin is the time kept after the last
	// batch to hand over (one Invoke call) and return.
	Budget budget.Budget
	// BatchLines is how many lines a batch reads; DefaultBatchLines when 0.
	BatchLines int
	// BatchEstimate is the least time a batch is assumed to take; the longest batch seen in
	// this invocation raises it. DefaultBatchEstimate when 0.
	BatchEstimate time.Duration
	// MaxLines, when above 0, also hands over once an invocation has read that many lines,
	// whatever time it has left. Production leaves it 0 (time alone decides); local runs set it
	// low so the chain shows with small files.
	MaxLines int64
	// MaxDepth is the hop limit: a link deeper than this fails the import instead of running,
	// so a chain that makes no progress cannot loop for ever. DefaultMaxDepth when 0.
	MaxDepth int
	// Window is the length of the first Range GET of an import's first invocation (each next
	// one is twice as long); later invocations size theirs from the import's pace (see
	// firstWindow). DefaultWindow when 0.
	Window int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts hops and the lines imported and rejected; nil records nothing.
	Metrics Metrics
}

// Process runs one link of the chain. It returns an error only for failures worth retrying
// (Lambda's asynchronous retries deliver the same link again, which resumes at the checkpoint);
// a stale or duplicated link, a finished import, and failures that retrying cannot fix end
// without error.
func (p Processor) Process(ctx context.Context, link Link) error {
	log := p.Log.With("importId", link.ImportID, "depth", link.Depth)
	imp, err := p.Store.Get(ctx, link.ImportID)
	if errors.Is(err, ErrNotFound) {
		log.WarnContext(ctx, "link for an unknown import dropped")
		return nil
	}
	if err != nil {
		return err
	}
	if imp.Status != StatusRunning || imp.Depth > link.Depth {
		log.InfoContext(ctx, "stale link: nothing to do", "status", imp.Status, "claimedDepth", imp.Depth)
		return nil
	}
	if maxDepth := p.maxDepth(); link.Depth > maxDepth {
		reason := fmt.Sprintf("hop limit reached: %d invocations were not enough; stopped at byte %d (line %d) of %d", maxDepth+1, imp.Offset, imp.Line, imp.Size)
		return p.fail(ctx, log, imp.ID, link.Depth, reason, nil)
	}
	imp, err = p.Store.Claim(ctx, imp.ID, link.Depth, clock.Now(p.Now))
	if errors.Is(err, ErrConflict) {
		log.InfoContext(ctx, "stale link: a later invocation claimed the import")
		return nil
	}
	if err != nil {
		return err
	}
	add(p.Metrics, MetricHops, 1)
	log.DebugContext(ctx, "resuming import", "offset", imp.Offset, "line", imp.Line, "size", imp.Size)
	return p.run(ctx, log, imp, link)
}

// run imports batches from the checkpoint until the file ends or time runs short, then hands
// the rest over. Each step is below: open, timeToHandOver, importBatch, handOver.
func (p Processor) run(ctx context.Context, log *slog.Logger, imp Import, link Link) error {
	lines, body, err := p.open(ctx, imp)
	if unreadableObject(err) {
		// No retry can read this version of the file again: fail the import now, in words its
		// owner can act on; the S3 error (bucket, request id) goes to the log only.
		return p.fail(ctx, log, imp.ID, link.Depth, unreadable(imp, err), err)
	}
	if err != nil {
		return err
	}
	defer body.Close()

	estimate := p.batchEstimate()
	first := lines.line
	hop := &Hop{Depth: link.Depth, Offset: imp.Offset, Line: imp.Line}
	for {
		if p.timeToHandOver(ctx, estimate, lines.line-first) {
			return p.handOver(ctx, log, imp, link, lines)
		}
		started := clock.Now(p.Now)
		done, err := p.importBatch(ctx, log, imp, lines, hop)
		if unreadableObject(err) {
			// A later window found the file gone or replaced: as at open, at the checkpoint.
			return p.fail(ctx, log, imp.ID, link.Depth, unreadable(imp, err), err)
		}
		if err != nil || done {
			return err
		}
		// imp now holds the checkpoint the next batch moves on from. It can be behind
		// lines.offset before the first batch: a byte-order mark skipped at byte 0 is counted
		// as done by the first batch's checkpoint.
		imp.Offset, imp.Line = lines.offset, lines.line
		hop = nil // recorded with the first checkpoint
		estimate = max(estimate, clock.Now(p.Now).Sub(started))
	}
}

// open streams the file from the import's checkpoint in windows (see windows), skipping a UTF-8
// byte-order mark at byte 0. The first window is opened at once, so that a file that cannot be
// read fails before any batch. A checkpoint at the end of the file (an empty file, or a chain
// resumed exactly at its end) opens nothing: a Range GET from the end would be refused.
func (p Processor) open(ctx context.Context, imp Import) (*lineReader, io.Closer, error) {
	body := &windows{
		open: func(offset, length int64) (io.ReadCloser, error) {
			return p.Objects.Open(ctx, imp.Bucket, imp.Key, imp.ETag, offset, length)
		},
		offset: imp.Offset, size: imp.Size, length: p.firstWindow(imp),
	}
	if imp.Offset < imp.Size {
		if err := body.next(); err != nil {
			return nil, nil, err
		}
	}
	lines := newLineReader(body, imp.Offset, imp.Line)
	if err := lines.skipByteOrderMark(); err != nil {
		body.Close()
		return nil, nil, fmt.Errorf("import %s: %w", imp.ID, err)
	}
	return lines, body, nil
}

// firstWindow is the length of this invocation's first Range GET: what the import's earlier
// invocations read on average, and an eighth more, so that one window usually covers what this
// one reads and S3 sends little that is not; Window for the first invocation. imp is the
// import as claimed, whose Invocations counts this one.
func (p Processor) firstWindow(imp Import) int64 {
	if earlier := int64(imp.Invocations - 1); earlier > 0 && imp.Offset > 0 {
		pace := imp.Offset / earlier
		return max(pace+pace/8, 1)
	}
	if p.Window > 0 {
		return p.Window
	}
	return DefaultWindow
}

// unreadableObject reports whether err says that the import's version of the file is gone.
func unreadableObject(err error) bool {
	return errors.Is(err, ErrObjectNotFound) || errors.Is(err, ErrObjectChanged)
}

// unreadable says, for the import's owner, why the file can no longer be read.
func unreadable(imp Import, err error) string {
	what := "deleted"
	if errors.Is(err, ErrObjectChanged) {
		what = "replaced"
	}
	return fmt.Sprintf("the file was %s before the import finished; it stopped at byte %d (line %d) of %d", what, imp.Offset, imp.Line, imp.Size)
}

// timeToHandOver reports whether this invocation should stop before another batch: the batch,
// estimated to take estimate, would not fit in the time left, or the invocation has read its
// MaxLines (read so far).
func (p Processor) timeToHandOver(ctx context.Context, estimate time.Duration, read int64) bool {
	return !p.Budget.Fits(ctx, estimate) || p.MaxLines > 0 && read >= p.MaxLines
}

// handOver queues the next link of the chain at where lines stopped.
func (p Processor) handOver(ctx context.Context, log *slog.Logger, imp Import, link Link, lines *lineReader) error {
	next := Link{Carrier: correlation.CarrierFrom(ctx), ImportID: imp.ID, Offset: lines.offset, Line: lines.line, Depth: link.Depth + 1}
	if err := p.Next.Continue(ctx, next); err != nil {
		return fmt.Errorf("continue import %s at byte %d: %w", imp.ID, lines.offset, err)
	}
	log.InfoContext(ctx, "handed over to the next invocation", "offset", lines.offset, "line", lines.line)
	return nil
}

// importBatch reads one batch, writes its orders and rejects, and moves the checkpoint from
// imp.Offset to past it, recording hop when it is not nil (the invocation's first batch). done is true when this invocation has nothing more to do: the file
// ended (the import SUCCEEDED), or another invocation of the chain moved the checkpoint first.
func (p Processor) importBatch(ctx context.Context, log *slog.Logger, imp Import, lines *lineReader, hop *Hop) (done bool, err error) {
	orders, rejects, eof, err := p.readBatch(imp, lines)
	if err != nil {
		return false, err
	}
	if eof && lines.offset != imp.Size {
		// The stream ended without an error before (or after) the size the import recorded:
		// a truncated read, not the end of the file. Finishing here would lose the records
		// after it; an error makes Lambda deliver the link again, which resumes at the
		// last checkpoint.
		return false, fmt.Errorf("read import %s: stream ended at byte %d of %d: %w", imp.ID, lines.offset, imp.Size, io.ErrUnexpectedEOF)
	}
	if err := p.Store.WriteOrders(ctx, orders); err != nil {
		return false, err
	}
	if err := p.Store.WriteRejects(ctx, imp.ID, rejects); err != nil {
		return false, err
	}
	cp := Checkpoint{Offset: lines.offset, Line: lines.line, Accepted: int64(len(orders)), Rejected: int64(len(rejects)), Done: eof, Hop: hop, Now: clock.Now(p.Now)}
	err = p.Store.Checkpoint(ctx, imp.ID, imp.Offset, cp)
	if errors.Is(err, ErrConflict) {
		// Another invocation of this chain (a duplicate delivery) moved the checkpoint first;
		// it carries on, and what this one wrote was the same items again.
		log.InfoContext(ctx, "checkpoint moved by another invocation: stopping", "offset", imp.Offset)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	add(p.Metrics, MetricLinesImported, float64(cp.Accepted))
	add(p.Metrics, MetricLinesRejected, float64(cp.Rejected))
	if eof {
		log.InfoContext(ctx, "import succeeded", "lines", lines.line, "bytes", lines.offset)
	}
	return eof, nil
}

// readBatch reads up to BatchLines lines and reports whether the file ended with them.
func (p Processor) readBatch(imp Import, lines *lineReader) (orders []Order, rejects []Reject, eof bool, err error) {
	n := p.batchLines()
	for range n {
		raw, err := lines.next()
		if errors.Is(err, io.EOF) {
			return orders, rejects, true, nil
		}
		if err != nil {
			return nil, nil, false, err
		}
		if raw.tooLong {
			rejects = append(rejects, Reject{Line: raw.number, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)})
			continue
		}
		order, reason, skip := parseLine(imp.Format, raw.number, raw.text)
		switch {
		case skip:
		case reason != "":
			rejects = append(rejects, Reject{Line: raw.number, Reason: reason})
		default:
			order.ImportID = imp.ID
			orders = append(orders, order)
		}
	}
	eof, err = lines.atEOF()
	return orders, rejects, eof, err
}

// fail records the import FAILED with reason, a sentence for its owner (GET /imports/{id} shows
// it as it is); cause, the internal error behind it when there is one, is logged with it.
func (p Processor) fail(ctx context.Context, log *slog.Logger, id string, depth int, reason string, cause error) error {
	err := p.Store.Fail(ctx, id, depth, reason, clock.Now(p.Now))
	if errors.Is(err, ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	if cause != nil {
		log = log.With("error", cause)
	}
	log.WarnContext(ctx, "import failed", "reason", reason)
	return nil
}

func (p Processor) batchLines() int {
	if p.BatchLines > 0 {
		return p.BatchLines
	}
	return DefaultBatchLines
}

func (p Processor) batchEstimate() time.Duration {
	if p.BatchEstimate > 0 {
		return p.BatchEstimate
	}
	return DefaultBatchEstimate
}

func (p Processor) maxDepth() int {
	if p.MaxDepth > 0 {
		return p.MaxDepth
	}
	return DefaultMaxDepth
}
