package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fanoutItems is the size of each batch the soak submits.
const fanoutItems = 10

// fanoutPattern submits batches every other tick and checks that each accepted batch succeeded
// with its counts equal to its items, holds one result per item, and was aggregated by its sink,
// once.
type fanoutPattern struct {
	s                 *stack
	c                 *client
	url, token, table string
	deadLetterQueues  map[string]string
	mu                sync.Mutex
	accepted          []string
}

func (p *fanoutPattern) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

func (p *fanoutPattern) name() string { return "fanout" }

func (p *fanoutPattern) api() string { return "FanoutApiUrl" }

func (p *fanoutPattern) setup(ctx context.Context, s *stack, c *client) error {
	p.s, p.c, p.table = s, c, s.outputs["FanoutTableName"]
	p.url = strings.TrimSuffix(s.outputs["FanoutApiUrl"], "/")
	p.deadLetterQueues = map[string]string{}
	for _, q := range []string{"FanoutTasksDeadLetterQueue", "FanoutFailuresDeadLetterQueue", "FanoutSinkDeadLetterQueue"} {
		u, err := s.queueURL(ctx, q)
		if err != nil {
			return err
		}
		p.deadLetterQueues[q] = u
	}
	var err error
	p.token, err = s.token("soak-fanout")
	return err
}

func (p *fanoutPattern) drive(ctx context.Context, i int) bool {
	if i%2 == 1 {
		return false
	}
	items := make([]string, fanoutItems)
	for n := range items {
		items[n] = fmt.Sprintf(`{"id":"item-%d","durationMs":10}`, n)
	}
	a := p.c.do(ctx, "POST /batches", http.MethodPost, p.url+"/batches", p.token,
		`{"items":[`+strings.Join(items, ",")+`]}`, "Idempotency-Key", fmt.Sprintf("soak-batch-%d", i))
	var got struct {
		BatchID string `json:"batchId"`
	}
	if a.status != http.StatusAccepted || json.Unmarshal(a.body, &got) != nil || got.BatchID == "" {
		return true
	}
	p.mu.Lock()
	p.accepted = append(p.accepted, got.BatchID)
	p.mu.Unlock()
	return true
}

func (p *fanoutPattern) check(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, id := range p.accepted {
		var batch map[string]types.AttributeValue
		results := 0
		pages := dynamodb.NewQueryPaginator(p.s.dynamodb, &dynamodb.QueryInput{
			TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("batchId = :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberS{Value: id}},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return []string{fmt.Sprintf("read batch %s: %v", id, err)}
			}
			for _, item := range page.Items {
				switch sk := stringAttr(item, "sk"); {
				case sk == "batch":
					batch = item
				case strings.HasPrefix(sk, "task#"):
					results++
				}
			}
		}
		status, total := stringAttr(batch, "status"), numberAttr(batch, "total")
		completed, failed := numberAttr(batch, "completed"), numberAttr(batch, "failed")
		if status != "SUCCEEDED" || total != fanoutItems || completed != fanoutItems || failed != 0 {
			out = append(out, fmt.Sprintf("batch %s is %q with %d completed and %d failed of %d; want SUCCEEDED with %d of %d", id, status, completed, failed, total, fanoutItems, fanoutItems))
		}
		if results != fanoutItems {
			out = append(out, fmt.Sprintf("batch %s holds %d results; want %d, one per item", id, results, fanoutItems))
		}
		// "batch aggregated" is logged by the sink run whose final write won. A run whose write
		// was applied but whose answer was lost logs "finished by another sink run" instead, so
		// the line may be missing; two would mean two sink runs both won.
		if runs := len(p.s.logs.Matching(`"batch aggregated"`, id)); runs > 1 {
			out = append(out, fmt.Sprintf("batch %s was aggregated by its sink %d times; want once", id, runs))
		}
		if stringAttr(batch, "status") == "SUCCEEDED" && batch["result"] == nil {
			out = append(out, fmt.Sprintf("batch %s is SUCCEEDED without the sink's result", id))
		}
	}
	for name, q := range p.deadLetterQueues {
		if n, err := queueDepth(ctx, p.s, q); err != nil || n > 0 {
			out = append(out, fmt.Sprintf("%s holds %d messages (%v); the run poisoned none", name, n, err))
		}
	}
	return out
}
