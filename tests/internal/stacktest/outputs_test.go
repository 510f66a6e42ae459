package stacktest

import (
	"maps"
	"testing"
)

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
			got, err := MergeOutputs(root, tt.nested)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("MergeOutputs error = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Errorf("MergeOutputs = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
