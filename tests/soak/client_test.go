package soak

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// client calls the stack's APIs as a careful client does: a 5xx, 409 or 429 answer, or a
// request that got no answer, is retried with the same Idempotency-Key after a back-off.
type client struct {
	http  *http.Client
	stats *stats
}

// maxTries is how often a client sends one request before it gives up on it.
const maxTries = 5

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends the request until it gets a final answer or maxTries are spent; route names it in
// the report ("POST /jobs"). The last answer is returned; status 0 means none arrived.
func (c *client) do(ctx context.Context, route, method, url, token, body string, headers ...string) answer {
	backoff := 200 * time.Millisecond
	var a answer
	for try := 1; try <= maxTries; try++ {
		a = c.once(ctx, route, method, url, token, body, headers...)
		if a.status != 0 && a.status < 500 && a.status != http.StatusConflict && a.status != http.StatusTooManyRequests {
			return a
		}
		if try == maxTries || ctx.Err() != nil {
			break
		}
		if s, err := strconv.Atoi(a.header.Get("Retry-After")); err == nil && s > 0 {
			backoff = max(backoff, time.Duration(s)*time.Second)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return a
		}
		backoff = min(backoff*2, 4*time.Second)
	}
	return a
}

// once sends one request and records its outcome and latency.
func (c *client) once(ctx context.Context, route, method, url, token, body string, headers ...string) answer {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		panic(err) // the soak builds its own URLs
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.stats.record(route, 0, time.Since(start))
		return answer{header: http.Header{}}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		c.stats.record(route, 0, d)
		return answer{header: http.Header{}}
	}
	c.stats.record(route, resp.StatusCode, d)
	return answer{status: resp.StatusCode, header: resp.Header, body: bytes.TrimSpace(b)}
}

// stats counts answers by route and status and keeps each route's latencies.
type stats struct {
	mu        sync.Mutex
	outcomes  map[string]map[int]int
	latencies map[string][]time.Duration
}

func newStats() *stats {
	return &stats{outcomes: map[string]map[int]int{}, latencies: map[string][]time.Duration{}}
}

func (s *stats) record(route string, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outcomes[route] == nil {
		s.outcomes[route] = map[int]int{}
	}
	s.outcomes[route][status]++
	s.latencies[route] = append(s.latencies[route], d)
}

// routeStats is one route's line of the report.
type routeStats struct {
	route    string
	requests int
	// outcomes reads "202×120 500×3"; status 0 is "no answer".
	outcomes string
	p50, p99 time.Duration
}

// routes returns every route's figures, sorted by route.
func (s *stats) routes() []routeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []routeStats
	for route, byStatus := range s.outcomes {
		statuses := make([]int, 0, len(byStatus))
		n := 0
		for status, count := range byStatus {
			statuses = append(statuses, status)
			n += count
		}
		sort.Ints(statuses)
		parts := make([]string, len(statuses))
		for i, status := range statuses {
			label := strconv.Itoa(status)
			if status == 0 {
				label = "no answer"
			}
			parts[i] = fmt.Sprintf("%s×%d", label, byStatus[status])
		}
		ds := slices.Clone(s.latencies[route])
		slices.Sort(ds)
		out = append(out, routeStats{route: route, requests: n, outcomes: strings.Join(parts, " "), p50: percentile(ds, 50), p99: percentile(ds, 99)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].route < out[j].route })
	return out
}

// percentile is the nearest-rank p-th percentile of sorted ds, 0 for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// queueDepth returns the messages a queue holds, visible or in flight.
func queueDepth(ctx context.Context, s *stack, queueURL string) (int, error) {
	out, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		return 0, fmt.Errorf("queue attributes of %s: %w", queueURL, err)
	}
	n := 0
	for _, name := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		n += v
	}
	return n, nil
}
