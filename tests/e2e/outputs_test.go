package e2e

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// mergeOutputs makes the one map of outputs the tests read from the root stack's outputs and
// those of its nested stacks, by the logical ID of each nested application. Every nested stack
// has an ApiUrl and an AlarmTopicArn; they are left out: the root names each service's API URL
// (<Svc>ApiUrl) and has the one alarm topic the services share. Any other key in two stacks is
// an error, since a test could not tell which of the two it reads.
func mergeOutputs(root map[string]string, nested map[string]map[string]string) (map[string]string, error) {
	merged := map[string]string{}
	from := map[string]string{} // key → the stack it came from, for the error
	for key, value := range root {
		merged[key] = value
		from[key] = "the root stack"
	}
	for _, app := range slices.Sorted(maps.Keys(nested)) {
		for _, key := range slices.Sorted(maps.Keys(nested[app])) {
			if key == "ApiUrl" || key == "AlarmTopicArn" {
				continue
			}
			if other, ok := from[key]; ok {
				return nil, fmt.Errorf("output %s is in both %s and %s", key, other, app)
			}
			merged[key] = nested[app][key]
			from[key] = app
		}
	}
	return merged, nil
}

func TestMergeOutputs(t *testing.T) {
	t.Parallel()
	root := map[string]string{"JobsApiUrl": "https://jobs", "AlarmTopicArn": "arn:root"}
	tests := []struct {
		name    string
		nested  map[string]map[string]string
		want    map[string]string
		wantErr string
	}{
		{
			name: "each stack's own keys",
			nested: map[string]map[string]string{
				"JobsApp":   {"ApiUrl": "https://jobs", "AlarmTopicArn": "arn:root", "JobsTableName": "jobs"},
				"LedgerApp": {"ApiUrl": "https://ledger", "AlarmTopicArn": "arn:root", "LedgerAuditQueueUrl": "audit"},
			},
			want: map[string]string{"JobsApiUrl": "https://jobs", "AlarmTopicArn": "arn:root", "JobsTableName": "jobs", "LedgerAuditQueueUrl": "audit"},
		},
		{
			name:    "a key in two nested stacks",
			nested:  map[string]map[string]string{"JobsApp": {"TableName": "a"}, "LedgerApp": {"TableName": "b"}},
			wantErr: "output TableName is in both JobsApp and LedgerApp",
		},
		{
			name:    "a nested key the root has",
			nested:  map[string]map[string]string{"JobsApp": {"JobsApiUrl": "https://elsewhere"}},
			wantErr: "output JobsApiUrl is in both the root stack and JobsApp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mergeOutputs(root, tt.nested)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("mergeOutputs error = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Errorf("mergeOutputs = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
