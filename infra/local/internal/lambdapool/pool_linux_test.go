package lambdapool

import (
	"strings"
	"testing"
	"time"
)

// The memory limit is enforced only where /proc gives a process's resident memory.
func TestInvokeKillsFunctionOverMemoryLimit(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	// A timeout well beyond the time to notice, so that a missed limit fails as a timeout.
	registerEcho(t, p, Function{Name: "hungry", MemoryMB: 64, Timeout: 5 * time.Second})
	before := invokeOK(t, p, "hungry", echoRequest{})

	res := invoke(t, p, "hungry", echoRequest{AllocMB: 160})
	if res.Err == nil {
		t.Fatalf("got success %s, want Runtime.OutOfMemory", res.Payload)
	}
	if got, want := res.Err.Type, "Runtime.OutOfMemory"; got != want {
		t.Errorf("got error type %q (%s), want %q", got, res.Err.Message, want)
	}
	if want := "Runtime exited with error: signal: killed"; !strings.HasPrefix(res.Err.Message, want) {
		t.Errorf("got message %q, want it to start with %q", res.Err.Message, want)
	}

	waitFor(t, "the killed process is gone", func() bool { return processGone(before.PID) })
	after := invokeOK(t, p, "hungry", echoRequest{})
	if after.PID == before.PID {
		t.Errorf("invoke after the kill ran in the killed pid %d, want a new process", after.PID)
	}
}

func TestResidentBytes(t *testing.T) {
	t.Parallel()
	p := newTestPool(t, Options{})
	registerEcho(t, p, Function{Name: "measured"})
	resp := invokeOK(t, p, "measured", echoRequest{})

	rss, err := residentBytes(resp.PID)
	if err != nil {
		t.Fatalf("read resident memory of a live process: %v", err)
	}
	// A Go process holds at least a megabyte and, idle, far less than a gigabyte.
	if rss < 1<<20 || rss > 1<<30 {
		t.Errorf("got %d resident bytes, want between 1 MB and 1 GB", rss)
	}
	if _, err := residentBytes(0); err == nil {
		t.Errorf("read resident memory of pid 0: got no error, want one")
	}
}
