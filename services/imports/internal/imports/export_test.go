package imports

import "log/slog"

// The tests in package imports_test run the chain on the adapters, packages s3objects and
// dynamostore, which import this package: they cannot be in package imports. This file lends them
// the test helpers of package imports they use.

var (
	NewChain      = newChain
	NewMemStore   = newMemStore
	NewMemObjects = newMemObjects
	OrdersFile    = ordersFile
	Get           = get
)

// Put stores body as the current version of bucket/key (memObjects.put).
func (o *memObjects) Put(bucket, key string, body []byte) Object { return o.put(bucket, key, body) }

// Start records an import of obj as Starter does and queues its first link (chain.start).
func (c *chain) Start(store Store, obj Object) Import {
	c.t.Helper()
	return c.start(store, obj)
}

// Drain runs queued links until none is left (chain.drain).
func (c *chain) Drain() { c.drain() }

// Invoke runs link as one invocation (chain.invoke).
func (c *chain) Invoke(link Link) error { return c.invoke(link) }

// TakePending returns the queued links and leaves none queued.
func (c *chain) TakePending() []Link {
	pending := c.pending
	c.pending = nil
	return pending
}

// Runs is how many invocations ran.
func (c *chain) Runs() int { return c.runs }

// Broken returns the links that failed every attempt.
func (c *chain) Broken() []Link { return c.broken }

// SetLog makes the chain's processor log to log.
func (c *chain) SetLog(log *slog.Logger) { c.proc.Log = log }
