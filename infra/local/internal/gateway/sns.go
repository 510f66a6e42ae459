package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SNS speaks the query protocol: a form-encoded POST (Action=Publish&TopicArn=...), or the same
// parameters in the query string of a GET.

// snsTopicOps act on the topic named by TopicArn.
var snsTopicOps = map[string]string{
	"Publish":                  "Publish",
	"PublishBatch":             "Publish",
	"Subscribe":                "Subscribe",
	"ConfirmSubscription":      "ConfirmSubscription",
	"GetTopicAttributes":       "GetTopicAttributes",
	"SetTopicAttributes":       "SetTopicAttributes",
	"DeleteTopic":              "DeleteTopic",
	"ListSubscriptionsByTopic": "ListSubscriptionsByTopic",
	"AddPermission":            "AddPermission",
	"RemovePermission":         "RemovePermission",
}

// snsSubscriptionOps act on a subscription, and IAM authorizes them on its topic.
var snsSubscriptionOps = []string{"Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes"}

// classifySNS maps an SNS request to its IAM actions.
func classifySNS(r *http.Request, body []byte, env environment) ([]Access, error) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("sns form body: %v: %w", err, ErrMalformed)
		}
		params = form
	}
	op := params.Get("Action")
	if op == "" {
		return nil, fmt.Errorf("sns request without Action: %w", ErrMalformed)
	}
	access := func(action, resource string) []Access {
		return []Access{{Action: "sns:" + action, Resource: resource, Context: env.context()}}
	}
	required := func(name string) (string, error) {
		v := params.Get(name)
		if v == "" {
			return "", fmt.Errorf("sns %s without %s: %w", op, name, ErrMalformed)
		}
		return v, nil
	}
	if action, ok := snsTopicOps[op]; ok {
		topic := params.Get("TopicArn")
		if op == "Publish" && topic == "" {
			// Publish to a platform endpoint names it as TargetArn; an SMS names a phone number
			// and is authorized on "*".
			topic = params.Get("TargetArn")
			if topic == "" && params.Get("PhoneNumber") != "" {
				topic = "*"
			}
		}
		if topic == "" {
			return nil, fmt.Errorf("sns %s without TopicArn: %w", op, ErrMalformed)
		}
		return access(action, topic), nil
	}
	for _, sub := range snsSubscriptionOps {
		if op != sub {
			continue
		}
		subscription, err := required("SubscriptionArn")
		if err != nil {
			return nil, err
		}
		// A subscription's ARN is its topic's ARN and a subscription id: "<topic ARN>:<id>".
		i := strings.LastIndex(subscription, ":")
		if i < 0 || !strings.HasPrefix(subscription, "arn:") {
			return nil, fmt.Errorf("sns %s: SubscriptionArn %q is not an ARN: %w", op, subscription, ErrMalformed)
		}
		return access(op, subscription[:i]), nil
	}
	switch op {
	case "TagResource", "UntagResource", "ListTagsForResource", "GetDataProtectionPolicy", "PutDataProtectionPolicy":
		resource, err := required("ResourceArn")
		if err != nil {
			return nil, err
		}
		return access(op, resource), nil
	case "CreateTopic":
		name, err := required("Name")
		if err != nil {
			return nil, err
		}
		return access(op, env.arn("sns", env.region, env.account, name)), nil
	case "ListTopics", "ListSubscriptions":
		return access(op, "*"), nil
	}
	// Mobile push, SMS settings and sandbox operations are not used locally.
	return nil, fmt.Errorf("sns action %s: %w", op, ErrUnsupported)
}
