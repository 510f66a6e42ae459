package soak

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/go-serverless/reference/infra/local/template"
)

// transactionTables are the tables TransactWriteItems writes (ledger's DynamoStore: an event and
// its receipt; fan-out's counting transaction on the batch record): the only tables whose single
// writes DynamoDB can answer TransactionConflictException. A stale name scopes its rule to
// nothing, which TestSoak reports as a kind that never landed; a fork without these services has
// no such table, and the rules do nothing there.
var transactionTables = []string{"LedgerEventsTable", "LedgerReceiptsTable", "FanoutTable"}

// TestSoakFaultsKeepBadLuckOutOfTheDeadLetterQueues holds faults.yaml to what the README and the
// file's comment promise, so that a message in a dead-letter queue is a broken promise rather than
// faults alone: maxFaultedReceives is set and below every queue's maxReceiveCount, and
// transaction-conflict is scoped to tables transactions write (the SDK does not retry it, and AWS
// sends it nowhere else).
func TestSoakFaultsKeepBadLuckOutOfTheDeadLetterQueues(t *testing.T) {
	data, err := os.ReadFile("faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		MaxFaultedReceives int `yaml:"maxFaultedReceives"`
		Faults             []struct {
			Kind     string `yaml:"kind"`
			Resource string `yaml:"resource"`
		} `yaml:"faults"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.LoadApp(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fewest := 0
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::SQS::Queue" || r.Properties["RedrivePolicy"] == nil {
			continue
		}
		policy, _ := r.Properties["RedrivePolicy"].(map[string]template.Value)
		n, ok := template.Number(inMap(tmpl, policy["maxReceiveCount"]))
		if !ok {
			t.Fatalf("%s: RedrivePolicy.maxReceiveCount %v is not a number", id, policy["maxReceiveCount"])
		}
		if fewest == 0 || int(n) < fewest {
			fewest = int(n)
		}
	}
	if fewest == 0 {
		t.Fatal("no queue with a RedrivePolicy in template.yaml: the check sees nothing")
	}
	if file.MaxFaultedReceives < 1 || file.MaxFaultedReceives >= fewest {
		t.Errorf("maxFaultedReceives %d; want 1 to %d, below the fewest receives a queue allows (%d)", file.MaxFaultedReceives, fewest-1, fewest)
	}

	scoped := 0
	for _, f := range file.Faults {
		if f.Kind != "transaction-conflict" {
			continue
		}
		scoped++
		if !slices.Contains(transactionTables, f.Resource) {
			t.Errorf("transaction-conflict rule with resource %q; want one of the tables transactions write, %v", f.Resource, transactionTables)
		}
	}
	if scoped == 0 {
		t.Error("no transaction-conflict rule: the soak would not meet every kind")
	}
}

// inMap is v, or the value its Fn::FindInMap names in tmpl's Mappings (the services keep each
// queue's maxReceiveCount in one).
func inMap(tmpl *template.Template, v template.Value) template.Value {
	fn, _ := v.(map[string]template.Value)
	find, ok := fn["Fn::FindInMap"].([]template.Value)
	if !ok || len(find) != 3 {
		return v
	}
	name, _ := find[0].(string)
	top, _ := find[1].(string)
	second, _ := find[2].(string)
	return tmpl.Mappings[name][top][second]
}
