package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DynamoDB and DynamoDB Streams speak JSON 1.0: the operation is in X-Amz-Target
// ("DynamoDB_20120810.GetItem", "DynamoDBStreams_20120810.GetRecords"), its parameters in the body.
// DynamoDB Local serves both on one endpoint.

// dynamoDBTableOps act on the table named by TableName, and need the action of the same name.
var dynamoDBTableOps = []string{
	"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
	"DescribeTable", "CreateTable", "DeleteTable", "UpdateTable",
	"DescribeTimeToLive", "UpdateTimeToLive", "DescribeContinuousBackups", "UpdateContinuousBackups",
}

// dynamoDBResourceARNOps act on the table or stream named by ResourceArn.
var dynamoDBResourceARNOps = []string{
	"ListTagsOfResource", "TagResource", "UntagResource",
	"GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy",
}

// dynamoDBAccountOps act on no resource: IAM authorizes them on "*".
var dynamoDBAccountOps = []string{
	"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables",
	"ListExports", "ListImports", "ListContributorInsights",
}

// dynamoDBRequest holds the parameters of any DynamoDB or DynamoDB Streams operation that the
// classification reads.
type dynamoDBRequest struct {
	TableName     string `json:"TableName"`
	IndexName     string `json:"IndexName"`
	ResourceARN   string `json:"ResourceArn"`
	StreamARN     string `json:"StreamArn"`
	ShardIterator string `json:"ShardIterator"`
	// RequestItems of BatchGetItem and BatchWriteItem: by table name or ARN.
	RequestItems map[string]json.RawMessage `json:"RequestItems"`
	// TransactItems of TransactWriteItems and TransactGetItems: each names one operation.
	TransactItems []map[string]struct {
		TableName string `json:"TableName"`
	} `json:"TransactItems"`
}

// classifyDynamoDB maps a DynamoDB or DynamoDB Streams request to its IAM actions.
func classifyDynamoDB(r *http.Request, body []byte, env environment) ([]Access, error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, _ := strings.Cut(target, ".")
	if prefix != "DynamoDB_20120810" && prefix != "DynamoDBStreams_20120810" || op == "" {
		return nil, fmt.Errorf("dynamodb X-Amz-Target %q: %w", target, ErrUnsupported)
	}
	var in dynamoDBRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("dynamodb %s body: %v: %w", op, err, ErrMalformed)
	}
	access := func(action, resource string) Access {
		return Access{Action: "dynamodb:" + action, Resource: resource, Context: env.context()}
	}
	table := func(name string) string {
		// Operations accept a table's ARN wherever they accept its name.
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return env.arn("dynamodb", env.region, env.account, "table/"+name)
	}
	required := func(name, value string) error {
		if value == "" {
			return fmt.Errorf("dynamodb %s without %s: %w", op, name, ErrMalformed)
		}
		return nil
	}

	if prefix == "DynamoDBStreams_20120810" {
		return classifyDynamoDBStreams(op, in, access)
	}
	switch {
	case slices.Contains(dynamoDBTableOps, op):
		if err := required("TableName", in.TableName); err != nil {
			return nil, err
		}
		resource := table(in.TableName)
		if in.IndexName != "" && (op == "Query" || op == "Scan") {
			resource += "/index/" + in.IndexName
		}
		return []Access{access(op, resource)}, nil
	case slices.Contains(dynamoDBResourceARNOps, op):
		if err := required("ResourceArn", in.ResourceARN); err != nil {
			return nil, err
		}
		return []Access{access(op, in.ResourceARN)}, nil
	case slices.Contains(dynamoDBAccountOps, op):
		return []Access{access(op, "*")}, nil
	case op == "BatchGetItem" || op == "BatchWriteItem":
		// One access per table, for the batch action alone: the Service Authorization Reference
		// ("Actions, resources, and condition keys for Amazon DynamoDB", table "API operations
		// defined by Amazon DynamoDB", docs.aws.amazon.com/service-authorization/latest/reference/
		// list_amazondynamodb.html) maps BatchWriteItem to dynamodb:BatchWriteItem only, and
		// BatchGetItem to dynamodb:BatchGetItem only; PutItem, DeleteItem and GetItem are not
		// required.
		if len(in.RequestItems) == 0 {
			return nil, fmt.Errorf("dynamodb %s without RequestItems: %w", op, ErrMalformed)
		}
		names := make([]string, 0, len(in.RequestItems))
		for name := range in.RequestItems {
			names = append(names, name)
		}
		slices.Sort(names)
		var out []Access
		for _, name := range names {
			out = append(out, access(op, table(name)))
		}
		return out, nil
	case op == "TransactWriteItems" || op == "TransactGetItems":
		// A transaction is authorized item by item, each for the single-item action it performs.
		actions := map[string]string{
			"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem",
		}
		if len(in.TransactItems) == 0 {
			return nil, fmt.Errorf("dynamodb %s without TransactItems: %w", op, ErrMalformed)
		}
		var out []Access
		for i, item := range in.TransactItems {
			if len(item) != 1 {
				return nil, fmt.Errorf("dynamodb %s item %d names %d operations: %w", op, i, len(item), ErrMalformed)
			}
			for kind, params := range item {
				action, ok := actions[kind]
				if !ok {
					return nil, fmt.Errorf("dynamodb %s item %d: operation %q: %w", op, i, kind, ErrUnsupported)
				}
				if params.TableName == "" {
					return nil, fmt.Errorf("dynamodb %s item %d without TableName: %w", op, i, ErrMalformed)
				}
				out = append(out, access(action, table(params.TableName)))
			}
		}
		return out, nil
	}
	// PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) needs the statement
	// parsed to know its PartiQL* actions and tables; backups, exports, imports and global tables
	// are not used locally.
	return nil, fmt.Errorf("dynamodb operation %s: %w", op, ErrUnsupported)
}

// classifyDynamoDBStreams maps a DynamoDB Streams request to its IAM actions, all on the stream.
func classifyDynamoDBStreams(op string, in dynamoDBRequest, access func(action, resource string) Access) ([]Access, error) {
	switch op {
	case "ListStreams":
		return []Access{access(op, "*")}, nil
	case "DescribeStream", "GetShardIterator":
		if in.StreamARN == "" {
			return nil, fmt.Errorf("dynamodb streams %s without StreamArn: %w", op, ErrMalformed)
		}
		return []Access{access(op, in.StreamARN)}, nil
	case "GetRecords":
		// GetRecords names only a shard iterator, and is authorized on the iterator's stream. Shard
		// iterators start with the stream's ARN: "arn:aws:dynamodb:...:table/T/stream/<label>|...".
		stream, _, found := strings.Cut(in.ShardIterator, "|")
		if !found || !strings.HasPrefix(stream, "arn:") || !strings.Contains(stream, "/stream/") {
			return nil, fmt.Errorf("dynamodb streams GetRecords: shard iterator names no stream ARN: %w", ErrUnsupported)
		}
		return []Access{access(op, stream)}, nil
	}
	return nil, fmt.Errorf("dynamodb streams operation %s: %w", op, ErrUnsupported)
}
