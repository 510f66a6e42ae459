package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// SQS speaks JSON 1.0 (the SDKs' default since 2023): the operation is in X-Amz-Target
// ("AmazonSQS.SendMessage"), its parameters, QueueUrl among them, in the body.

// sqsQueueOps act on the queue named by QueueUrl. A batch needs the action of its single form:
// IAM has no sqs:SendMessageBatch, sqs:DeleteMessageBatch or sqs:ChangeMessageVisibilityBatch.
var sqsQueueOps = map[string]string{
	"SendMessage":                  "SendMessage",
	"SendMessageBatch":             "SendMessage",
	"ReceiveMessage":               "ReceiveMessage",
	"DeleteMessage":                "DeleteMessage",
	"DeleteMessageBatch":           "DeleteMessage",
	"ChangeMessageVisibility":      "ChangeMessageVisibility",
	"ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
	"GetQueueAttributes":           "GetQueueAttributes",
	"SetQueueAttributes":           "SetQueueAttributes",
	"PurgeQueue":                   "PurgeQueue",
	"DeleteQueue":                  "DeleteQueue",
	"ListQueueTags":                "ListQueueTags",
	"TagQueue":                     "TagQueue",
	"UntagQueue":                   "UntagQueue",
	"AddPermission":                "AddPermission",
	"RemovePermission":             "RemovePermission",
	"ListDeadLetterSourceQueues":   "ListDeadLetterSourceQueues",
}

// sqsRequest holds the parameters of any SQS operation that the classification reads.
type sqsRequest struct {
	QueueURL               string `json:"QueueUrl"`
	QueueName              string `json:"QueueName"`
	QueueOwnerAWSAccountID string `json:"QueueOwnerAWSAccountId"`
}

// classifySQS maps an SQS request to its IAM actions.
func classifySQS(r *http.Request, body []byte, env environment) ([]Access, error) {
	target := r.Header.Get("X-Amz-Target")
	op, found := strings.CutPrefix(target, "AmazonSQS.")
	if !found || op == "" {
		// The old query protocol (Action=... in a form) is not classified: the Go SDK v2 and
		// fauxqs speak JSON.
		return nil, fmt.Errorf("sqs X-Amz-Target %q: %w", target, ErrUnsupported)
	}
	var in sqsRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("sqs %s body: %v: %w", op, err, ErrMalformed)
	}
	access := func(action, resource string) []Access {
		return []Access{{Action: "sqs:" + action, Resource: resource, Context: env.context()}}
	}
	if action, ok := sqsQueueOps[op]; ok {
		if in.QueueURL == "" {
			return nil, fmt.Errorf("sqs %s without QueueUrl: %w", op, ErrMalformed)
		}
		queue, err := env.queue(in.QueueURL)
		if err != nil {
			return nil, fmt.Errorf("sqs %s: %w", op, err)
		}
		return access(action, queue), nil
	}
	switch op {
	case "ListQueues":
		return access(op, "*"), nil
	case "GetQueueUrl", "CreateQueue":
		if in.QueueName == "" {
			return nil, fmt.Errorf("sqs %s without QueueName: %w", op, ErrMalformed)
		}
		account := env.account
		if in.QueueOwnerAWSAccountID != "" {
			account = in.QueueOwnerAWSAccountID
		}
		return access(op, env.arn("sqs", env.region, account, in.QueueName)), nil
	}
	// Message move tasks (Start/Cancel/ListMessageMoveTasks) act on a source and a destination
	// queue and are not used locally.
	return nil, fmt.Errorf("sqs operation %s: %w", op, ErrUnsupported)
}

// queue returns the ARN of the queue at queueURL: as the environment maps it, or else from the
// URL's path, which is /<account>/<queue name> at every SQS endpoint and at fauxqs.
func (e environment) queue(queueURL string) (string, error) {
	if e.queueARN != nil {
		if arn, ok := e.queueARN(queueURL); ok {
			return arn, nil
		}
	}
	u, err := url.Parse(queueURL)
	if err != nil {
		return "", fmt.Errorf("queue URL %q: %v: %w", queueURL, err, ErrMalformed)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || slices.Contains(parts, "..") {
		return "", fmt.Errorf("queue URL %q has no /<account>/<name> path: %w", queueURL, ErrMalformed)
	}
	return e.arn("sqs", e.region, parts[0], parts[1]), nil
}
