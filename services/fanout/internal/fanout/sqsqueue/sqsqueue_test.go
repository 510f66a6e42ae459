package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/go-serverless/reference/services/fanout/internal/fanout"
)

const batchID = "0123456789abcdef0123456789abcdef"

// flakySQS refuses, in each SendMessageBatch answer, the entries whose item is in refuse, for as
// many calls as refuse says; it records every body it accepted.
type flakySQS struct {
	API
	refuse   map[string]int
	accepted []string
	calls    [][]string
}

func (f *flakySQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	var call []string
	for _, e := range in.Entries {
		var task fanout.Subtask
		if err := json.Unmarshal([]byte(aws.ToString(e.MessageBody)), &task); err != nil {
			return nil, err
		}
		call = append(call, task.Item.ID)
		if f.refuse[task.Item.ID] > 0 {
			f.refuse[task.Item.ID]--
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
			continue
		}
		f.accepted = append(f.accepted, task.Item.ID)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	f.calls = append(f.calls, call)
	return out, nil
}

func TestSendBatchRetriesOnlyFailedEntries(t *testing.T) {
	tasks := make([]fanout.Subtask, 10)
	for i := range tasks {
		tasks[i] = fanout.Subtask{BatchID: batchID, Item: fanout.Item{ID: fmt.Sprintf("i%d", i)}}
	}
	f := &flakySQS{refuse: map[string]int{"i3": 1, "i7": 2}}
	if err := (TaskQueue{SQS: f, URL: "q"}).SendBatch(context.Background(), tasks); err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if len(f.accepted) != 10 {
		t.Errorf("accepted %v; want each of the 10 items exactly once", f.accepted)
	}
	if len(f.calls) != 3 || len(f.calls[1]) != 2 || len(f.calls[2]) != 1 || f.calls[2][0] != "i7" {
		t.Errorf("calls = %v; want 10 entries, then i3 and i7, then i7", f.calls)
	}

	stuck := &flakySQS{refuse: map[string]int{"i0": entryAttempts}}
	if err := (TaskQueue{SQS: stuck, URL: "q"}).SendBatch(context.Background(), tasks[:1]); err == nil {
		t.Error("SendBatch with an entry refused on every attempt = nil; want an error")
	}
}
