package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serverless/reference/shared/budget"
)

// Settings of the chains the tests drive: an invocation has 10 s, keeps 1 s to hand over, and
// every batch takes 2 s of the fake clock, so one invocation imports 4 batches.
const (
	testTimeout  = 10 * time.Second
	testMargin   = time.Second
	testPerBatch = 2 * time.Second
)

// slowStore makes every WriteOrders take perBatch on the fake clock: the time a batch costs.
type slowStore struct {
	Store
	clock    *fakeClock
	perBatch time.Duration
}

func (s slowStore) WriteOrders(ctx context.Context, orders []Order) error {
	s.clock.Advance(s.perBatch)
	return s.Store.WriteOrders(ctx, orders)
}

// chain stands in for Lambda's asynchronous invocation of ProcessImportFunction: Continue
// queues a link, and drain runs each queued link as one invocation with a deadline testTimeout
// ahead on the fake clock, retrying a failed one twice as Lambda does.
type chain struct {
	t     *testing.T
	clock *fakeClock
	proc  Processor

	mu      sync.Mutex
	pending []Link
	// runs counts invocations; failContinue fails that many Continue calls first.
	runs         int
	failContinue int
	// broken collects links that failed every attempt (Lambda's OnFailure destination).
	broken []Link
}

func newChain(t *testing.T, store Store, objects Objects) *chain {
	c := &chain{t: t, clock: newFakeClock()}
	c.proc = Processor{
		Store:         slowStore{Store: store, clock: c.clock, perBatch: testPerBatch},
		Objects:       objects,
		Next:          c,
		Budget:        budget.Budget{Margin: testMargin, Now: c.clock.Now},
		BatchLines:    20,
		BatchEstimate: time.Second,
		MaxDepth:      1000,
		// Small first windows: a first invocation reads through several, one byte per Read.
		Window: 1 << 10,
		Now:    c.clock.Now,
		Log:    slog.New(slog.DiscardHandler),
	}
	return c
}

func (c *chain) Continue(_ context.Context, link Link) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failContinue > 0 {
		c.failContinue--
		return errors.New("lambda: rate exceeded")
	}
	c.pending = append(c.pending, link)
	return nil
}

// invoke runs link as one invocation.
func (c *chain) invoke(link Link) error {
	ctx, cancel := context.WithDeadline(context.Background(), c.clock.Now().Add(testTimeout))
	defer cancel()
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	return c.proc.Process(ctx, link)
}

// drain runs queued links until none is left.
func (c *chain) drain() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.mu.Unlock()
			return
		}
		link := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		var err error
		for range 3 { // the first attempt and Lambda's two retries
			if err = c.invoke(link); err == nil {
				break
			}
		}
		if err != nil {
			c.broken = append(c.broken, link)
		}
	}
}

// start records an import of obj as Starter does and queues its first link.
func (c *chain) start(store Store, obj Object) Import {
	c.t.Helper()
	imp, _, err := Starter{Store: store, Next: c, Retention: time.Hour, Now: c.clock.Now}.Start(context.Background(), "alice", obj)
	if err != nil {
		c.t.Fatalf("Start: %v", err)
	}
	return imp
}

// ordersFile returns an NDJSON file of n valid orders whose customers have multi-byte names, and
// the orders it holds by line.
func ordersFile(n int) (string, map[int64]Order) {
	var b strings.Builder
	want := map[int64]Order{}
	for i := 1; i <= n; i++ {
		o := Order{Line: int64(i), OrderID: fmt.Sprintf("o-%d", i), Customer: fmt.Sprintf("Zoë 日本 %d 🎉", i), Amount: int64(i * 7), Currency: "EUR"}
		fmt.Fprintf(&b, `{"id":%q,"customer":%q,"amount":%d,"currency":"EUR"}`+"\n", o.OrderID, o.Customer, o.Amount)
		want[int64(i)] = o
	}
	return b.String(), want
}

func checkOrders(t *testing.T, got map[int64]Order, id string, want map[int64]Order) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d orders stored; want %d", len(got), len(want))
	}
	for line, w := range want {
		w.ImportID = id
		if got[line] != w {
			t.Errorf("line %d: stored %+v; want %+v", line, got[line], w)
		}
	}
}

func get(t *testing.T, s Store, id string) Import {
	t.Helper()
	imp, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return imp
}

func TestChainImportsEveryRecordExactlyOnce(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, want := ordersFile(1000)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Offset != obj.Size || got.Line != 1000 || got.Accepted != 1000 || got.Rejected != 0 {
		t.Fatalf("import = %s at byte %d/%d line %d, %d accepted, %d rejected; want SUCCEEDED at the end, 1000 accepted", got.Status, got.Offset, obj.Size, got.Line, got.Accepted, got.Rejected)
	}
	// 50 batches of 20 lines, 4 to an invocation: the file needs 13 invocations.
	if c.runs < 5 || got.Invocations != c.runs {
		t.Errorf("%d invocations ran, %d recorded; want at least 5, all recorded", c.runs, got.Invocations)
	}
	// Every invocation moved the checkpoint, so each is a hop, and the hops tile the file: hop
	// n starts where hop n-1 stopped.
	if len(got.Hops) != c.runs {
		t.Errorf("%d hops recorded for %d invocations; want one each", len(got.Hops), c.runs)
	}
	for i, h := range got.Hops {
		if h.Depth != i || i == 0 && (h.Offset != 0 || h.Line != 0) || i > 0 && (h.Offset <= got.Hops[i-1].Offset || h.Line <= got.Hops[i-1].Line) {
			t.Errorf("hop %d = %+v after %+v; want hop %d, starting past the one before", i, h, got.Hops[max(i-1, 0)], i)
		}
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)
	if store.orderWrites != 1000 {
		t.Errorf("%d order writes; want 1000 (no batch written twice)", store.orderWrites)
	}
	// Every invocation resumed at the start of a line; a further window of an invocation goes on
	// where the one before it ended.
	var asked int64
	for i, o := range objects.opens {
		continues := i > 0 && objects.opens[i-1].offset+objects.opens[i-1].length == o.offset
		if !continues && o.offset != 0 && body[o.offset-1] != '\n' {
			t.Errorf("an invocation opened the file at byte %d, inside a line", o.offset)
		}
		asked += o.length
	}
	// S3 is asked for about the file once, not for the rest of the file at every hand-over
	// (which would be 6 times the file here): after the first invocation, each asks for the
	// import's pace so far and an eighth more.
	if asked > obj.Size+obj.Size/4 {
		t.Errorf("Range GETs asked for %d bytes of a %d-byte file; want at most a quarter more", asked, obj.Size)
	}
	if len(objects.opens) > c.runs+4 {
		t.Errorf("%d Range GETs for %d invocations; want about one each", len(objects.opens), c.runs)
	}
}

func TestChainResumesAfterAnInvocationIsKilledMidBatch(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, want := ordersFile(300)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	// The 7th batch dies after writing half its orders, before its checkpoint; so does the 12th.
	batches := 0
	store.beforeWrite = func([]Order) error {
		batches++
		if batches == 7 || batches == 12 {
			return context.DeadlineExceeded
		}
		return nil
	}
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 300 || got.Line != 300 {
		t.Fatalf("import = %s, %d accepted, line %d; want SUCCEEDED with 300 accepted", got.Status, got.Accepted, got.Line)
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)
	if len(c.broken) != 0 {
		t.Errorf("%d links failed every attempt; want the retries to resume", len(c.broken))
	}
	// A retried hop is a mark of its own, with the same hop number: it resumed where its killed
	// attempt had checkpointed.
	depths := map[int]bool{}
	for _, h := range got.Hops {
		depths[h.Depth] = true
	}
	if len(got.Hops) <= len(depths) {
		t.Errorf("hops %+v; want a retried hop recorded twice", got.Hops)
	}
	// Each killed batch wrote half of its 20 orders, which the retry wrote again.
	if store.orderWrites != 300+10+10 {
		t.Errorf("%d order writes; want 320: the two killed halves rewritten, nothing else", store.orderWrites)
	}
}

func TestChainSurvivesAFailedHandOver(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, want := ordersFile(200)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	// The first hand-over fails: the invocation returns an error, Lambda retries the same link,
	// and the retry resumes at the checkpoint its first attempt left (not at the link's offset).
	c.failContinue = 1
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 200 {
		t.Fatalf("import = %s with %d accepted; want SUCCEEDED with 200", got.Status, got.Accepted)
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)
	if store.orderWrites != 200 {
		t.Errorf("%d order writes; want 200", store.orderWrites)
	}
}

func TestDuplicatedLinksHaveOneEffect(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, want := ordersFile(400)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	// Lambda delivers every link twice, the copies at the same time.
	var wg sync.WaitGroup
	for {
		c.mu.Lock()
		links := c.pending
		c.pending = nil
		c.mu.Unlock()
		if len(links) == 0 {
			break
		}
		for _, link := range links {
			for range 2 {
				wg.Go(func() {
					if err := c.invoke(link); err != nil {
						t.Errorf("invoke: %v", err)
					}
				})
			}
		}
		wg.Wait()
	}
	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 400 || got.Line != 400 {
		t.Fatalf("import = %s with %d accepted at line %d; want SUCCEEDED with 400", got.Status, got.Accepted, got.Line)
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)

	// A copy delivered after the chain moved on changes nothing.
	before := store.orderWrites
	if err := c.invoke(Link{ImportID: imp.ID}); err != nil {
		t.Fatal(err)
	}
	if after := get(t, store, imp.ID); after.Accepted != 400 || store.orderWrites != before {
		t.Errorf("a stale link wrote %d orders and left %d accepted; want no effect", store.orderWrites-before, after.Accepted)
	}
}

func TestMalformedLinesAreRejectedWithTheirLineNumbers(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	lines := []string{
		"id,customer,amount,currency",  // 1: header, skipped
		"o-1,Ada,1250,EUR",             // 2
		"o-2,Bob,12.50,EUR",            // 3: not minor units
		"o-3,,100,EUR",                 // 4: no customer
		"",                             // 5: blank, skipped
		"o-4,\"Lovelace, Ada\",99,GBP", // 6: quoted comma
		"o-5,Eve,100,euro",             // 7: bad currency
		"o-6,Eve,100",                  // 8: three fields
		"o 7,Eve,100,EUR",              // 9: bad id
		"o-8,Zoë,-5,EUR",               // 10: negative
		"o-9,\xff\xfe,5,EUR",           // 11: not UTF-8
		"o-10,Last,1,USD",              // 12
	}
	obj := objects.put("bucket", "imports/alice/orders.csv", []byte(strings.Join(lines, "\r\n")+"\r\n"))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 3 || got.Rejected != 7 || got.Line != 12 {
		t.Fatalf("import = %s, %d accepted, %d rejected, line %d; want SUCCEEDED, 3, 7, 12", got.Status, got.Accepted, got.Rejected, got.Line)
	}
	orders := store.ordersOf(imp.ID)
	if orders[6].Customer != "Lovelace, Ada" || orders[12].OrderID != "o-10" || orders[2].Amount != 1250 {
		t.Errorf("orders = %+v; want lines 2, 6 and 12 with their fields", orders)
	}
	view, err := Reader{Store: store}.Get(context.Background(), "alice", imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rejected []int64
	for _, r := range view.Rejects {
		rejected = append(rejected, r.Line)
		if r.Reason == "" {
			t.Errorf("line %d rejected without a reason", r.Line)
		}
	}
	if fmt.Sprint(rejected) != "[3 4 7 8 9 10 11]" {
		t.Errorf("rejected lines %v; want [3 4 7 8 9 10 11]", rejected)
	}
}

func TestFileShapes(t *testing.T) {
	long := `{"id":"o-2","customer":"` + strings.Repeat("x", MaxLineBytes) + `","amount":1,"currency":"EUR"}`
	tests := []struct {
		name, key, body        string
		wantAccepted, wantRej  int64
		wantLine               int64
		wantCustomerOnLastLine string
	}{
		{name: "empty file", key: "e.ndjson", body: ""},
		{name: "no trailing newline", key: "n.csv", body: "o-1,Ada,1,EUR\no-2,Bob,2,EUR", wantAccepted: 2, wantLine: 2, wantCustomerOnLastLine: "Bob"},
		{name: "CRLF", key: "c.csv", body: "o-1,Ada,1,EUR\r\no-2,Bob,2,EUR\r\n", wantAccepted: 2, wantLine: 2, wantCustomerOnLastLine: "Bob"},
		{name: "only a header", key: "h.csv", body: "id,customer,amount,currency\n", wantLine: 1},
		{name: "line too long", key: "l.ndjson", body: `{"id":"o-1","customer":"Ada","amount":1,"currency":"EUR"}` + "\n" + long + "\n" + `{"id":"o-3","customer":"Cy","amount":3,"currency":"EUR"}`, wantAccepted: 2, wantRej: 1, wantLine: 3, wantCustomerOnLastLine: "Cy"},
		{name: "unknown JSON field", key: "u.jsonl", body: `{"id":"o-1","customer":"Ada","amount":1,"currency":"EUR","vip":true}`, wantRej: 1, wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			obj := objects.put("bucket", "imports/alice/"+tt.key, []byte(tt.body))
			c := newChain(t, store, objects)
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status != StatusSucceeded || got.Accepted != tt.wantAccepted || got.Rejected != tt.wantRej || got.Line != tt.wantLine || got.Offset != obj.Size {
				t.Fatalf("import = %s, %d accepted, %d rejected, line %d, byte %d/%d; want SUCCEEDED, %d, %d, line %d, at the end",
					got.Status, got.Accepted, got.Rejected, got.Line, got.Offset, obj.Size, tt.wantAccepted, tt.wantRej, tt.wantLine)
			}
			if tt.wantCustomerOnLastLine != "" {
				if last := store.ordersOf(imp.ID)[tt.wantLine]; last.Customer != tt.wantCustomerOnLastLine {
					t.Errorf("last line's order = %+v; want customer %s", last, tt.wantCustomerOnLastLine)
				}
			}
			if tt.body == "" && len(objects.opens) != 0 {
				t.Errorf("%d GETs of an empty file; want none (a Range GET of 0 bytes is refused)", len(objects.opens))
			}
		})
	}
}

func TestMultiByteCharactersAcrossInvocations(t *testing.T) {
	// Batches of 3 lines whose lengths are not multiples of anything: every hand-over lands at a
	// different distance from a multi-byte character, and the body arrives one byte per Read.
	store, objects := newMemStore(), newMemObjects()
	var b strings.Builder
	want := map[int64]Order{}
	names := []string{"Zoë", "日本語", "🎉🎊", "Ελληνικά", "a"}
	for i := 1; i <= 60; i++ {
		o := Order{Line: int64(i), OrderID: fmt.Sprintf("o-%d", i), Customer: strings.Repeat(names[i%len(names)], i%4+1), Amount: 1, Currency: "JPY"}
		fmt.Fprintf(&b, "%s,%s,1,JPY\n", o.OrderID, o.Customer)
		want[int64(i)] = o
	}
	obj := objects.put("bucket", "imports/alice/utf8.csv", []byte(b.String()))
	c := newChain(t, store, objects)
	c.proc.BatchLines = 3
	imp := c.start(store, obj)
	c.drain()
	if got := get(t, store, imp.ID); got.Status != StatusSucceeded || got.Accepted != 60 || got.Rejected != 0 {
		t.Fatalf("import = %s, %d accepted, %d rejected; want SUCCEEDED with all 60", got.Status, got.Accepted, got.Rejected)
	}
	if c.runs < 5 {
		t.Errorf("%d invocations; want at least 5 hand-overs to test", c.runs)
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)
}

func TestHopLimitFailsTheImport(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, _ := ordersFile(400) // needs 5 invocations
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	c.proc.MaxDepth = 2 // hops 0, 1 and 2: three invocations
	imp := c.start(store, obj)
	c.drain()

	got := get(t, store, imp.ID)
	if got.Status != StatusFailed || !strings.Contains(got.Failure, "hop limit") || !strings.Contains(got.Failure, fmt.Sprintf("byte %d", got.Offset)) {
		t.Fatalf("import = %s (%q); want FAILED naming the hop limit and the byte it stopped at", got.Status, got.Failure)
	}
	if got.Accepted != 240 || c.runs != 4 {
		t.Errorf("%d accepted in %d invocations; want 240 (3 × 4 batches of 20) and a 4th that only fails", got.Accepted, c.runs)
	}
	if len(c.pending) != 0 {
		t.Errorf("%d links queued after FAILED; want the chain stopped", len(c.pending))
	}
}

func TestChangedObjectFailsTheImport(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, _ := ordersFile(200)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	// The first invocation runs, then the file is overwritten before the next link.
	link := c.pending[0]
	c.pending = nil
	if err := c.invoke(link); err != nil {
		t.Fatal(err)
	}
	objects.put("bucket", obj.Key, []byte(body+body))
	c.drain()
	got := get(t, store, imp.ID)
	want := fmt.Sprintf("the file was replaced before the import finished; it stopped at byte %d (line 80) of %d", got.Offset, obj.Size)
	if got.Status != StatusFailed || got.Failure != want {
		t.Fatalf("import = %s (%q); want FAILED %q", got.Status, got.Failure, want)
	}
}

// replacedAtOpen replaces the object at the open-th Open, just before it is answered.
type replacedAtOpen struct {
	*memObjects
	open  int
	opens int
}

func (o *replacedAtOpen) Open(ctx context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error) {
	if o.opens++; o.opens == o.open {
		o.put(bucket, key, []byte("other\n"))
	}
	return o.memObjects.Open(ctx, bucket, key, etag, offset, length)
}

// TestFileReplacedMidInvocationFailsAtOnce: an invocation reads in windows, so it can find the
// file replaced when it opens its next one. The import ends FAILED at its last checkpoint, in
// that invocation, as when a link finds it replaced at its start.
func TestFileReplacedMidInvocationFailsAtOnce(t *testing.T) {
	store, mem := newMemStore(), newMemObjects()
	body, _ := ordersFile(200)
	obj := mem.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, &replacedAtOpen{memObjects: mem, open: 3}) // windows of 1, 2, then 4 KiB
	imp := c.start(store, obj)
	c.drain()
	got := get(t, store, imp.ID)
	want := fmt.Sprintf("the file was replaced before the import finished; it stopped at byte %d (line %d) of %d", got.Offset, got.Line, obj.Size)
	if got.Status != StatusFailed || got.Failure != want || got.Offset == 0 || got.Offset >= 3<<10 {
		t.Fatalf("import = %s at byte %d (%q); want FAILED %q, at a checkpoint inside the first 3 KiB", got.Status, got.Offset, got.Failure, want)
	}
	if c.runs != 1 || len(c.broken) != 0 {
		t.Errorf("%d invocations, %d links to the failure queue; want 1 and none: a replaced file is not worth retrying", c.runs, len(c.broken))
	}
}

func TestChainGuardFailsOnlyABrokenChain(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, _ := ordersFile(200)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	imp := c.start(store, obj)
	first := c.pending[0]
	c.pending = nil
	if err := c.invoke(first); err != nil { // hop 0 imports 4 batches, hands over to hop 1
		t.Fatal(err)
	}
	guard := ChainGuard{Store: store, Now: c.clock.Now}
	ctx := context.Background()
	// A late failure report for hop 0 (a duplicate that failed) while hop 1 is queued: nothing broke yet.
	if err := c.invoke(c.pending[0]); err != nil { // hop 1 claims
		t.Fatal(err)
	}
	if failed, err := guard.Broken(ctx, first, "Sandbox.Timedout"); err != nil || failed {
		t.Fatalf("Broken(hop 0) after hop 1 claimed = %v, %v; want no effect", failed, err)
	}
	// Hop 2 failed every attempt: the import is FAILED where it stopped.
	hop2 := c.pending[1]
	if failed, err := guard.Broken(ctx, hop2, "Runtime.ExitError"); err != nil || !failed {
		t.Fatalf("Broken(hop 2) = %v, %v; want the import failed", failed, err)
	}
	got := get(t, store, imp.ID)
	if got.Status != StatusFailed || !strings.Contains(got.Failure, fmt.Sprintf("the import chain broke at byte %d (line 160)", got.Offset)) || strings.Contains(got.Failure, "Runtime.ExitError") {
		t.Errorf("import = %s (%q); want FAILED naming byte and line 160, without the cause (it is for the logs)", got.Status, got.Failure)
	}
}

func TestStartIsIdempotent(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte("{}\n"))
	c := newChain(t, store, objects)
	s := Starter{Store: store, Next: c, Retention: time.Hour, Now: c.clock.Now}
	ctx := context.Background()
	first, created, err := s.Start(ctx, "alice", obj)
	if err != nil || !created || first.Status != StatusRunning {
		t.Fatalf("Start = %+v, %v, %v; want a new RUNNING import", first, created, err)
	}
	// A duplicated notification, or the same upload POSTed: the same import, quoted ETag or not.
	obj.ETag = `"` + obj.ETag + `"`
	second, created, err := s.Start(ctx, "alice", obj)
	if err != nil || created || second.ID != first.ID {
		t.Fatalf("second Start = %s, created %v, %v; want the same import %s", second.ID, created, err, first.ID)
	}
	// Until an invocation claims it, a repeated start re-sends the first link (the first start
	// may have died before its Invoke); after, it sends nothing.
	if len(c.pending) != 2 {
		t.Errorf("%d links queued; want 2 (no invocation had claimed the import)", len(c.pending))
	}
	c.drain()
	if _, _, err := s.Start(ctx, "alice", obj); err != nil || len(c.pending) != 0 {
		t.Errorf("Start after the import ran queued %d links (%v); want none", len(c.pending), err)
	}

	// A file of an unknown type is recorded FAILED, and nothing runs.
	other := objects.put("bucket", "imports/alice/orders.xlsx", []byte("PK"))
	imp, _, err := s.Start(ctx, "alice", other)
	if err != nil || imp.Status != StatusFailed || !strings.Contains(imp.Failure, "unsupported file type") || len(c.pending) != 0 {
		t.Errorf("Start(.xlsx) = %s %q, %v, %d links; want FAILED and nothing queued", imp.Status, imp.Failure, err, len(c.pending))
	}
}

func TestReaderHidesOtherUsersImports(t *testing.T) {
	store := newMemStore()
	_ = store.Create(context.Background(), Import{ID: "i-1", Owner: "alice", Status: StatusRunning})
	r := Reader{Store: store}
	if _, err := r.Get(context.Background(), "mallory", "i-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get by another user = %v; want ErrNotFound", err)
	}
	if _, err := r.Get(context.Background(), "alice", "i-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of no import = %v; want ErrNotFound", err)
	}
	if v, err := r.Get(context.Background(), "alice", "i-1"); err != nil || v.ID != "i-1" {
		t.Errorf("Get by the owner = %+v, %v; want the import", v, err)
	}
}

// ensure the fakes keep the interfaces.
var (
	_ Store   = (*memStore)(nil)
	_ Objects = (*memObjects)(nil)
	_         = io.EOF
)

func TestMaxLinesHandsOverEarly(t *testing.T) {
	store, objects := newMemStore(), newMemObjects()
	body, want := ordersFile(250)
	obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
	c := newChain(t, store, objects)
	c.proc.Budget = budget.Budget{} // all the time in the world: only MaxLines hands over
	c.proc.MaxLines = 100
	imp := c.start(store, obj)
	c.drain()
	got := get(t, store, imp.ID)
	if got.Status != StatusSucceeded || got.Accepted != 250 || c.runs != 3 {
		t.Fatalf("import = %s with %d accepted in %d invocations; want SUCCEEDED with 250 in 3", got.Status, got.Accepted, c.runs)
	}
	checkOrders(t, store.ordersOf(imp.ID), imp.ID, want)
}

// shortObjects serves every object cut short by cut bytes, ending the stream with io.EOF and
// no error, as a body shorter than its Content-Length would if nothing noticed.
type shortObjects struct {
	*memObjects
	cut int
}

func (o shortObjects) Open(ctx context.Context, bucket, key, etag string, offset, length int64) (io.ReadCloser, error) {
	body, err := o.memObjects.Open(ctx, bucket, key, etag, offset, length)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader(string(b[:max(0, len(b)-o.cut)]))), nil
}

func TestTruncatedStreamDoesNotFinishTheImport(t *testing.T) {
	for _, cut := range []int{1, 40, 500} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			store, objects := newMemStore(), newMemObjects()
			body, _ := ordersFile(30)
			obj := objects.put("bucket", "imports/alice/orders.ndjson", []byte(body))
			c := newChain(t, store, shortObjects{memObjects: objects, cut: cut})
			imp := c.start(store, obj)
			c.drain()
			got := get(t, store, imp.ID)
			if got.Status == StatusSucceeded {
				t.Fatalf("import = %s at byte %d of %d; want it not finished after a truncated read", got.Status, got.Offset, got.Size)
			}
			if len(c.broken) != 1 {
				t.Errorf("%d links failed every attempt; want 1 (the truncated read is retried, not ignored)", len(c.broken))
			}
		})
	}
}
