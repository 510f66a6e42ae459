package fanout

import (
	"encoding/json"
	"fmt"
)

// SendBatchSize is the most messages one SendMessageBatch call takes.
const SendBatchSize = 10

// sinkMessage is the sink queue's message: only the batch id, the record is the source of truth.
type sinkMessage struct {
	BatchID string `json:"batchId"`
}

// EncodeSinkMessage returns the body of the sink queue message that asks to aggregate batchID,
// which DecodeSinkMessage reads back.
func EncodeSinkMessage(batchID string) string {
	body, _ := json.Marshal(sinkMessage{BatchID: batchID}) // a struct of one string always marshals
	return string(body)
}

// DecodeSinkMessage reads the batch id from a sink queue message body.
func DecodeSinkMessage(body string) (string, error) {
	var m sinkMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil || !validID(m.BatchID) {
		return "", fmt.Errorf("sink message %.100q names no batch", body)
	}
	return m.BatchID, nil
}
