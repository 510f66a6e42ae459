package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-serverless/reference/services/pricing/internal/canary"
	"github.com/go-serverless/reference/services/pricing/internal/flags"
	"github.com/go-serverless/reference/services/pricing/internal/flags/launchdarkly"
	"github.com/go-serverless/reference/services/pricing/internal/pricing"
	"github.com/go-serverless/reference/services/pricing/internal/quotes"
	"github.com/go-serverless/reference/shared/idempotency"
	"github.com/go-serverless/reference/shared/lambdatest"
)

const sub = "5b8e4f1a-9c2d-4e7f-8a1b-3c4d5e6f7a8b"

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// testdata holds the service's event fixtures (the same files work with `sam local invoke -e`).
const testdata = "../../testdata/"

// fakeFlags answers engine for everyone and counts evaluations and flushes. With calls set, it
// appends "evaluate" and "flush" there, in the order they happen.
type fakeFlags struct {
	engine  pricing.Engine
	reason  flags.Reason
	users   []flags.User
	flushes int
	calls   *[]string
}

func (f *fakeFlags) Evaluate(_ context.Context, u flags.User) (pricing.Engine, flags.Reason) {
	f.users = append(f.users, u)
	if f.calls != nil {
		*f.calls = append(*f.calls, "evaluate")
	}
	return f.engine, f.reason
}

func (f *fakeFlags) Flush(context.Context) {
	f.flushes++
	if f.calls != nil {
		*f.calls = append(*f.calls, "flush")
	}
}

// fakeMetrics keeps the samples; with calls set, it appends "record" there.
type fakeMetrics struct {
	samples []canary.Sample
	calls   *[]string
}

func (f *fakeMetrics) Record(s canary.Sample) error {
	f.samples = append(f.samples, s)
	if f.calls != nil {
		*f.calls = append(*f.calls, "record")
	}
	return nil
}

// TestMetricIsRecordedAfterTheFlush: the flush can wait for event delivery, so it must come
// before the metric line, or the recorded latency (and the latency alarm) would miss the wait.
func TestMetricIsRecordedAfterTheFlush(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		handle  func(ctx context.Context, f *fakeFlags, m *fakeMetrics, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse
	}{
		{
			name: "GET /prices/{sku}", fixture: "get-price.json",
			handle: func(ctx context.Context, f *fakeFlags, m *fakeMetrics, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
				log, _ := lambdatest.CaptureLogger()
				resp, _ := Price{Flags: f, Metrics: m, Now: ticking(), Log: log}.Handle(ctx, req)
				return resp
			},
		},
		{
			name: "POST /quotes", fixture: "submit-quote.json",
			handle: func(ctx context.Context, f *fakeFlags, m *fakeMetrics, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
				log, _ := lambdatest.CaptureLogger()
				resp, _ := SubmitQuote{Quotes: &fakeSubmitter{}, Idempotency: &memIdempotency{}, Flags: f, Metrics: m, Now: ticking(), Log: log}.Handle(ctx, req)
				return resp
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+tt.fixture, &req)
			var calls []string
			f, m := &fakeFlags{engine: pricing.V2, calls: &calls}, &fakeMetrics{calls: &calls}
			resp := tt.handle(context.Background(), f, m, req)
			if resp.StatusCode >= 400 {
				t.Fatalf("response %d %s; want success", resp.StatusCode, resp.Body)
			}
			if got, want := strings.Join(calls, ","), "evaluate,flush,record"; got != want {
				t.Errorf("calls %s; want %s", got, want)
			}
		})
	}
}

// ticking is a clock that moves 3 ms each time it is read.
func ticking() func() time.Time {
	now := t0
	return func() time.Time { now = now.Add(3 * time.Millisecond); return now }
}

func TestPriceServesTheEngineTheFlagChose(t *testing.T) {
	tests := []struct {
		engine    pricing.Engine
		reason    flags.Reason
		wantPrice int64
	}{
		{engine: pricing.V1, reason: "FALLTHROUGH", wantPrice: 7250},
		{engine: pricing.V2, reason: "RULE_MATCH(0,beta-plan)", wantPrice: 6887},
		// LaunchDarkly unreachable: the adapter answers v1, and the request is served normally.
		{engine: pricing.V1, reason: "ERROR(CLIENT_NOT_READY)", wantPrice: 7250},
	}
	for _, tt := range tests {
		t.Run(string(tt.engine)+" "+string(tt.reason), func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-price.json", &req)
			f, m := &fakeFlags{engine: tt.engine, reason: tt.reason}, &fakeMetrics{}
			log, logs := lambdatest.CaptureLogger()
			resp, err := Price{Flags: f, Metrics: m, Now: ticking(), Log: log}.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got priceView
			json.Unmarshal([]byte(resp.Body), &got)
			want := priceView{SKU: "TEA-002", Quantity: 10, Price: tt.wantPrice, Currency: "EUR", Engine: tt.engine}
			if resp.StatusCode != 200 || got != want {
				t.Fatalf("response %d %s; want 200 %+v", resp.StatusCode, resp.Body, want)
			}
			if resp.Headers[EngineHeader] != string(tt.engine) {
				t.Errorf("%s = %q; want %s", EngineHeader, resp.Headers[EngineHeader], tt.engine)
			}
			if len(f.users) != 1 || f.users[0] != (flags.User{Key: sub, Plan: "beta", Region: "eu-west-1"}) {
				t.Errorf("evaluated for %+v; want the JWT's sub, plan and region", f.users)
			}
			if f.flushes != 1 {
				t.Errorf("flushed %d times; want once, after evaluating", f.flushes)
			}
			if len(m.samples) != 1 || m.samples[0].Engine != tt.engine || m.samples[0].Failed || m.samples[0].Latency <= 0 {
				t.Errorf("metrics %+v; want one successful sample for %s", m.samples, tt.engine)
			}
			lines := logs.Lines()
			if len(lines) == 0 {
				t.Error("nothing logged; want the request's log lines, each with the engine")
			}
			for _, line := range lines {
				if !strings.Contains(line, `"engine":"`+string(tt.engine)+`"`) {
					t.Errorf("log line without the engine: %s", line)
				}
			}
		})
	}
}

func TestPriceRefusals(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		wantStatus int
		wantParam  string
		evaluates  bool
	}{
		{name: "bad sku", edit: func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["sku"] = "tea-2" }, wantStatus: 400, wantParam: "sku", evaluates: true},
		{name: "unknown sku", edit: func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["sku"] = "ZZZ-999" }, wantStatus: 404, evaluates: true},
		{name: "quantity not a number", edit: func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters["quantity"] = "ten" }, wantStatus: 400, wantParam: "quantity", evaluates: true},
		{name: "quantity too large", edit: func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters["quantity"] = "1001" }, wantStatus: 400, wantParam: "quantity", evaluates: true},
		{name: "no subject", edit: func(r *events.APIGatewayV2HTTPRequest) { delete(r.RequestContext.Authorizer.JWT.Claims, "sub") }, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"get-price.json", &req)
			tt.edit(&req)
			f, m := &fakeFlags{engine: pricing.V2}, &fakeMetrics{}
			log, _ := lambdatest.CaptureLogger()
			resp, _ := Price{Flags: f, Metrics: m, Now: ticking(), Log: log}.Handle(context.Background(), req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("response %d %v %s; want %d", resp.StatusCode, resp.Headers, resp.Body, tt.wantStatus)
			}
			p := lambdatest.Problem(t, resp)
			if tt.wantParam != "" && (len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != tt.wantParam) {
				t.Errorf("body %s; want invalid-params naming %s", resp.Body, tt.wantParam)
			}
			if evaluated := len(f.users) == 1; evaluated != tt.evaluates {
				t.Errorf("evaluated = %v; want %v", evaluated, tt.evaluates)
			}
			// Flush only after an evaluation: with nothing queued, FlushAndWait waits its whole timeout.
			if f.flushes != len(f.users) {
				t.Errorf("%d flushes after %d evaluations; want equal", f.flushes, len(f.users))
			}
			if tt.evaluates && (resp.Headers[EngineHeader] != "v2" || len(m.samples) != 1 || m.samples[0].Failed) {
				t.Errorf("header %q, metrics %+v; want the engine on the refusal and one non-error sample", resp.Headers[EngineHeader], m.samples)
			}
		})
	}
}

type fakeSubmitter struct {
	jobs []quotes.Job
	err  error
}

func (f *fakeSubmitter) Submit(ctx context.Context, owner string, req pricing.Request, engine pricing.Engine, key string) (quotes.Job, error) {
	if f.err != nil {
		return quotes.Job{}, f.err
	}
	job, err := quotes.Submitter{Queue: queueFunc(func(_ context.Context, j quotes.Job) error { f.jobs = append(f.jobs, j); return nil })}.Submit(ctx, owner, req, engine, key)
	return job, err
}

// memIdempotency is idempotency.Store's contract in memory: the first request with a key runs, a
// retry with the same fingerprint gets its result, another fingerprint ErrFingerprintMismatch.
// inProgress makes every key look claimed by a request still running.
type memIdempotency struct {
	records    map[string][2]string // key → fingerprint, result
	inProgress bool
}

func (m *memIdempotency) Do(ctx context.Context, key, fingerprint string, _ time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	if m.inProgress {
		return nil, idempotency.ErrInProgress
	}
	if r, ok := m.records[key]; ok {
		if r[0] != fingerprint {
			return nil, idempotency.ErrFingerprintMismatch
		}
		return []byte(r[1]), nil
	}
	result, err := fn(ctx)
	if err != nil {
		return nil, err
	}
	if m.records == nil {
		m.records = map[string][2]string{}
	}
	m.records[key] = [2]string{fingerprint, string(result)}
	return result, nil
}

type queueFunc func(context.Context, quotes.Job) error

func (q queueFunc) Send(ctx context.Context, j quotes.Job) error { return q(ctx, j) }

func TestSubmitQuote(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		submitErr  error
		inProgress bool
		wantStatus int
		wantParam  string
	}{
		{name: "accepted", wantStatus: 202},
		{name: "unknown field", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"sku":"MUG-001","quantity":1,"price":1}` }, wantStatus: 400, wantParam: "price"},
		{name: "bad sku", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"sku":"mug","quantity":1}` }, wantStatus: 400, wantParam: "sku"},
		// Refused now, not accepted, dead-lettered by the worker and 404 for ever.
		{name: "unknown sku", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"sku":"ZZZ-999","quantity":1}` }, wantStatus: 400, wantParam: "sku"},
		{name: "no quantity", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"sku":"MUG-001"}` }, wantStatus: 400, wantParam: "quantity"},
		{name: "name in another case", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"SKU":"MUG-001","quantity":1}` }, wantStatus: 400, wantParam: "SKU"},
		{name: "quantity beyond int64", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"sku":"MUG-001","quantity":9223372036854775808}` }, wantStatus: 400, wantParam: "quantity"},
		{name: "key in progress", inProgress: true, wantStatus: 409},
		{name: "queue down", submitErr: errors.New("sqs: 10.0.0.9 unreachable"), wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req events.APIGatewayV2HTTPRequest
			lambdatest.Event(t, testdata+"submit-quote.json", &req)
			if tt.edit != nil {
				tt.edit(&req)
			}
			s, f, m := &fakeSubmitter{err: tt.submitErr}, &fakeFlags{engine: pricing.V2}, &fakeMetrics{}
			log, _ := lambdatest.CaptureLogger()
			h := SubmitQuote{Quotes: s, Idempotency: &memIdempotency{inProgress: tt.inProgress}, Flags: f, Metrics: m, Now: ticking(), Log: log}
			resp, _ := h.Handle(context.Background(), req)
			if resp.StatusCode != tt.wantStatus || resp.Headers[EngineHeader] != "v2" {
				t.Fatalf("response %d %v %s; want %d with engine v2", resp.StatusCode, resp.Headers, resp.Body, tt.wantStatus)
			}
			if tt.wantParam != "" {
				if p := lambdatest.Problem(t, resp); len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != tt.wantParam {
					t.Errorf("body %s; want invalid-params naming %s", resp.Body, tt.wantParam)
				}
			}
			if got := resp.Headers["Retry-After"] != ""; got != (tt.wantStatus == 202 || tt.wantStatus == 409) {
				t.Errorf("Retry-After %q on a %d; want one on 202 and 409 only", resp.Headers["Retry-After"], resp.StatusCode)
			}
			if strings.Contains(resp.Body, "10.0.0.9") {
				t.Errorf("internal error leaked: %s", resp.Body)
			}
			if got := len(m.samples) == 1 && m.samples[0].Failed; got != (tt.wantStatus >= 500) {
				t.Errorf("metrics %+v; want an error sample only for a 5xx", m.samples)
			}
			if tt.wantStatus != 202 {
				if len(s.jobs) != 0 {
					t.Errorf("queued %+v; want nothing", s.jobs)
				}
				return
			}
			var body quoteAccepted
			json.Unmarshal([]byte(resp.Body), &body)
			if len(s.jobs) != 1 || s.jobs[0].Engine != pricing.V2 || s.jobs[0].QuoteID != body.QuoteID || body.Engine != pricing.V2 {
				t.Fatalf("queued %+v, answered %s; want one job carrying v2 and its id answered", s.jobs, resp.Body)
			}
			if resp.Headers["Location"] != "/quotes/"+body.QuoteID || resp.Headers["Retry-After"] == "" {
				t.Errorf("headers %v; want Location and Retry-After", resp.Headers)
			}
		})
	}
}

// The same Idempotency-Key with another body is another request: 422, as for jobs, batches and the
// ledger, not 202 with the first quote. A true retry gets the first answer, engine included, even
// after the flag has moved, and queues nothing more.
func TestSubmitQuoteIdempotencyKey(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-quote.json", &req)
	s, idem, m := &fakeSubmitter{}, &memIdempotency{}, &fakeMetrics{}
	log, _ := lambdatest.CaptureLogger()
	post := func(body string, engine pricing.Engine) events.APIGatewayV2HTTPResponse {
		r := req
		r.Body = body
		resp, _ := SubmitQuote{Quotes: s, Idempotency: idem, Flags: &fakeFlags{engine: engine}, Metrics: m, Now: ticking(), Log: log}.Handle(context.Background(), r)
		return resp
	}

	first := post(`{"sku":"MUG-001","quantity":100}`, pricing.V2)
	if first.StatusCode != 202 {
		t.Fatalf("first POST = %d %s; want 202", first.StatusCode, first.Body)
	}
	retry := post(`{ "quantity": 100, "sku": "MUG-001" }`, pricing.V1)
	if retry.StatusCode != 202 || retry.Body != first.Body || retry.Headers[EngineHeader] != "v2" {
		t.Errorf("retry = %d %s (engine %s); want the first answer %s, engine v2", retry.StatusCode, retry.Body, retry.Headers[EngineHeader], first.Body)
	}
	other := post(`{"sku":"MUG-001","quantity":1}`, pricing.V2)
	if other.StatusCode != 422 {
		t.Errorf("same key, other quote = %d %s; want 422", other.StatusCode, other.Body)
	} else if p := lambdatest.Problem(t, other); p.Title != "Idempotency-Key reused for a different request" {
		t.Errorf("problem %+v; want it to say the key was reused", p)
	}
	if len(s.jobs) != 1 || s.jobs[0].Quantity != 100 {
		t.Errorf("queued %+v; want only the first quote", s.jobs)
	}
	if _, ok := idem.records["quote/"+sub+"/order-42"]; !ok {
		t.Errorf("idempotency records %v; want the key scoped to the caller", idem.records)
	}
}

type memStore struct {
	mu     sync.Mutex
	quotes map[string]quotes.Quote
}

func (s *memStore) Put(_ context.Context, q quotes.Quote) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.quotes[q.QuoteID]; ok {
		return false, nil
	}
	s.quotes[q.QuoteID] = q
	return true, nil
}

func (s *memStore) Get(_ context.Context, id string) (quotes.Quote, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quotes[id]
	if !ok {
		return quotes.Quote{}, quotes.ErrNotFound
	}
	return q, nil
}

// TestQuoteKeepsItsEngineWhenTheFlagFlips runs the real flag client on a flags file: a beta user
// submits a quote (v2), the kill switch is thrown in the file before the worker runs, new
// requests get v1, and the queued quote is still priced by v2.
func TestQuoteKeepsItsEngineWhenTheFlagFlips(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("..", "..", "flags.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := lambdatest.CaptureLogger()
	ld, err := launchdarkly.Open(launchdarkly.Config{Source: launchdarkly.File, FlagsFile: path, StartWait: 5 * time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()

	var sent []events.SQSMessage
	queue := queueFunc(func(_ context.Context, j quotes.Job) error {
		body, _ := json.Marshal(j)
		sent = append(sent, events.SQSMessage{MessageId: "m-" + j.QuoteID, Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
		return nil
	})
	submit := SubmitQuote{Quotes: quotes.Submitter{Queue: queue}, Idempotency: &memIdempotency{}, Flags: ld, Metrics: &fakeMetrics{}, Now: ticking(), Log: log}
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"submit-quote.json", &req) // a beta-plan user
	resp, _ := submit.Handle(ctx, req)
	if resp.StatusCode != 202 || resp.Headers[EngineHeader] != "v2" || len(sent) != 1 {
		t.Fatalf("submit: %d %v, %d queued; want 202 by v2 and one message", resp.StatusCode, resp.Headers, len(sent))
	}

	off := bytes.Replace(data, []byte(`"on": true`), []byte(`"on": false`), 1)
	if err := os.WriteFile(path, off, 0o644); err != nil {
		t.Fatal(err)
	}
	beta := flags.User{Key: sub, Plan: "beta"}
	deadline := time.Now().Add(10 * time.Second)
	for e, _ := ld.Evaluate(ctx, beta); e != pricing.V1; e, _ = ld.Evaluate(ctx, beta) {
		if time.Now().After(deadline) {
			t.Fatal("the flag still serves v2 after the kill switch was thrown in the file")
		}
		time.Sleep(20 * time.Millisecond)
	}

	store := &memStore{quotes: map[string]quotes.Quote{}}
	worker := ProcessQuotes{Quotes: quotes.Worker{Store: store, Retention: time.Hour, Now: ticking()}, Metrics: &fakeMetrics{}, Now: ticking(), Log: log}
	out, _ := worker.Handle(ctx, events.SQSEvent{Records: sent})
	if len(out.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v; want none", out.BatchItemFailures)
	}
	var job quotes.Job
	json.Unmarshal([]byte(sent[0].Body), &job)
	q, err := store.Get(ctx, job.QuoteID)
	if err != nil || q.Engine != pricing.V2 || q.Price != 116910 {
		t.Fatalf("quote = %+v, %v; want priced by v2 (116910), the engine decided at submission", q, err)
	}
}

func TestProcessQuotesReportsOnlyFailures(t *testing.T) {
	var event events.SQSEvent
	lambdatest.Event(t, testdata+"process-quote.json", &event)
	store, m := &memStore{quotes: map[string]quotes.Quote{}}, &fakeMetrics{}
	log, _ := lambdatest.CaptureLogger()
	h := ProcessQuotes{Quotes: quotes.Worker{Store: store, Retention: time.Hour, Now: ticking()}, Metrics: m, Now: ticking(), Log: log}
	out, err := h.Handle(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.BatchItemFailures) != 1 || out.BatchItemFailures[0].ItemIdentifier != event.Records[1].MessageId {
		t.Fatalf("failures %+v; want only the job with engine v9", out.BatchItemFailures)
	}
	q, err := store.Get(context.Background(), "9f1c2b3a4d5e6f708192a3b4c5d6e7f8")
	if err != nil || q.Engine != pricing.V2 || q.Owner != sub {
		t.Errorf("stored %+v, %v; want the v2 quote", q, err)
	}
	if len(m.samples) != 2 || m.samples[0].Engine != pricing.V2 || m.samples[0].Failed || !m.samples[1].Failed {
		t.Errorf("metrics %+v; want a v2 success and a failure", m.samples)
	}
}

type getterFunc func(ctx context.Context, owner, id string) (quotes.Quote, error)

func (g getterFunc) Get(ctx context.Context, owner, id string) (quotes.Quote, error) {
	return g(ctx, owner, id)
}

func TestGetQuote(t *testing.T) {
	stored := quotes.Quote{QuoteID: "9f1c2b3a4d5e6f708192a3b4c5d6e7f8", Owner: sub, SKU: "MUG-001", Quantity: 100, Price: 116910, Currency: "EUR", Engine: pricing.V2, PricedAt: t0}
	getter := getterFunc(func(_ context.Context, owner, id string) (quotes.Quote, error) {
		if owner == sub && id == stored.QuoteID {
			return stored, nil
		}
		return quotes.Quote{}, quotes.ErrNotFound
	})
	log, _ := lambdatest.CaptureLogger()
	var req events.APIGatewayV2HTTPRequest
	lambdatest.Event(t, testdata+"get-quote.json", &req)
	resp, _ := GetQuote{Quotes: getter, Log: log}.Handle(context.Background(), req)
	if resp.StatusCode != 200 || resp.Headers[EngineHeader] != "v2" || !strings.Contains(resp.Body, `"price":116910`) || strings.Contains(resp.Body, sub) {
		t.Fatalf("response %d %v %s; want 200, engine v2, the price, and no owner", resp.StatusCode, resp.Headers, resp.Body)
	}
	req.PathParameters["quoteId"] = "ffffffffffffffffffffffffffffffff"
	if resp, _ := (GetQuote{Quotes: getter, Log: log}).Handle(context.Background(), req); resp.StatusCode != 404 {
		t.Errorf("unknown quote: %d; want 404", resp.StatusCode)
	}
	// An id no quote can have is not looked up: DynamoDB would refuse a 3,000-byte key with a 500.
	refusing := getterFunc(func(context.Context, string, string) (quotes.Quote, error) {
		return quotes.Quote{}, errors.New("ValidationException: key too large")
	})
	req.PathParameters["quoteId"] = strings.Repeat("f", 3000)
	if resp, _ := (GetQuote{Quotes: refusing, Log: log}).Handle(context.Background(), req); resp.StatusCode != 404 {
		t.Errorf("id of 3,000 characters: %d %s; want 404", resp.StatusCode, resp.Body)
	}
}
