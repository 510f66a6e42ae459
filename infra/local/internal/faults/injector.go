package faults

import (
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Observer is told of each injected fault (the ops collector counts them on its page).
type Observer interface {
	FaultInjected(kind string)
}

// Target is what a fault would hit.
type Target struct {
	// Function is the logical ID of the function making the request or being invoked.
	Function string
	// Service is the AWS service called ("dynamodb", ...) or "lambda" for an invocation.
	Service string
	// Operation is the IAM action called, or for an invocation the event source.
	Operation string
	// Resource is the ARN acted on, or the function's local name for an invocation.
	Resource string
}

// Decision is a fault to inject.
type Decision struct {
	Kind Kind
	// Delay is the rule's Delay; for FunctionKill and FunctionTimeout already drawn within it.
	Delay time.Duration
}

// Injector decides which requests and invocations meet which faults. Safe for concurrent use; a
// nil *Injector injects nothing.
type Injector struct {
	cfg      Config
	log      *slog.Logger
	observer Observer
	// logicalIDs maps a function's local name to its logical ID, for rules scoped by function.
	logicalIDs map[string]string

	mu     sync.Mutex
	rng    *rand.Rand
	counts map[Kind]int64
	// faultedReceives counts, by SQS message id, the receives that met a fault (with
	// Config.MaxFaultedReceives).
	faultedReceives map[string]int
}

// New returns an Injector for cfg. logicalIDs maps each function's local name to its logical ID;
// log and observer may be nil.
func New(cfg Config, logicalIDs map[string]string, log *slog.Logger, observer Observer) *Injector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Injector{
		cfg: cfg, log: log, observer: observer, logicalIDs: logicalIDs,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		counts: map[Kind]int64{}, faultedReceives: map[string]int{},
	}
}

// spared reports whether a delivery of the messages ids is spared from faults: one of them has
// met faults on Config.MaxFaultedReceives receives already.
func (in *Injector) spared(ids []string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, id := range ids {
		if in.faultedReceives[id] >= in.cfg.MaxFaultedReceives {
			return true
		}
	}
	return false
}

// faultedReceive counts a receive of the messages ids that met a fault.
func (in *Injector) faultedReceive(ids []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, id := range ids {
		in.faultedReceives[id]++
	}
}

// Seed returns the seed the injector draws from.
func (in *Injector) Seed() uint64 {
	if in == nil {
		return 0
	}
	return in.cfg.Seed
}

// Counts returns how many faults of each kind were injected so far.
func (in *Injector) Counts() map[Kind]int64 {
	if in == nil {
		return map[Kind]int64{}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.counts)
}

// decide draws, for each rule of one of kinds that matches t, whether it fires; the first that
// fires decides. Each matching rule costs one draw, so the sequence of draws is the seed's.
func (in *Injector) decide(t Target, kinds ...Kind) (Decision, bool) {
	if in == nil {
		return Decision{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range in.cfg.Faults {
		if !matches(r, t, kinds) {
			continue
		}
		if in.rng.Float64() >= r.Probability {
			continue
		}
		d := Decision{Kind: r.Kind, Delay: r.Delay}
		if r.Kind == FunctionKill || r.Kind == FunctionTimeout {
			d.Delay = time.Duration(in.rng.Int64N(int64(r.Delay)))
		}
		return d, true
	}
	return Decision{}, false
}

// matches reports whether rule r applies to t and is one of kinds.
func matches(r Rule, t Target, kinds []Kind) bool {
	found := false
	for _, k := range kinds {
		if r.Kind == k {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	if r.Function != "" && r.Function != t.Function {
		return false
	}
	if r.Operation != "" && r.Operation != t.Operation && r.Operation != t.Service {
		return false
	}
	return r.Resource == "" || strings.Contains(t.Resource, r.Resource)
}

// injected counts and logs one fault that hit t.
func (in *Injector) injected(d Decision, t Target, detail ...any) {
	in.mu.Lock()
	in.counts[d.Kind]++
	in.mu.Unlock()
	if in.observer != nil {
		in.observer.FaultInjected(string(d.Kind))
	}
	attrs := []any{"seed", in.cfg.Seed, "kind", string(d.Kind), "function", t.Function, "service", t.Service, "operation", t.Operation, "resource", t.Resource}
	in.log.Info("fault injected", append(attrs, detail...)...)
}

// Gateway decides the fault, if any, for a request a function signed: one of kinds (those the
// service can answer), on the request's first action and resource. It counts and logs the fault.
func (in *Injector) Gateway(t Target, kinds []Kind) (Decision, bool) {
	d, ok := in.decide(t, kinds...)
	if ok {
		in.injected(d, t)
	}
	return d, ok
}
