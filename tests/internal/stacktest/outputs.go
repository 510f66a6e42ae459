package stacktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Outputs is the runner's outputs.json: the root stack's outputs, each nested application's (by
// its logical ID in the root template), the name it gave each function (by logical ID, unique in
// the app), the stand-ins' endpoints and credentials, and the key it verifies tokens with.
type Outputs struct {
	Endpoints       map[string]string            `json:"endpoints"`
	Stack           map[string]string            `json:"stack"`
	Nested          map[string]map[string]string `json:"nested"`
	FunctionNames   map[string]string            `json:"functionNames"`
	Region          string                       `json:"region"`
	AccessKeyID     string                       `json:"accessKeyId"`
	SecretAccessKey string                       `json:"secretAccessKey"`
	JWTKeyFile      string                       `json:"jwtKeyFile"`
}

// ReadOutputs reads outputs.json from the runner's state directory.
func ReadOutputs(state string) (Outputs, error) {
	var out Outputs
	data, err := os.ReadFile(filepath.Join(state, "outputs.json"))
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	if err != nil {
		return Outputs{}, fmt.Errorf("read runner outputs: %w", err)
	}
	return out, nil
}

// MergeOutputs puts a stack's outputs and its nested stacks' in one map, as the tests look them
// up. Each nested stack's ApiUrl and AlarmTopicArn are left out: the root re-exports each
// service's API URL as <Svc>ApiUrl, and the alarm topic is the root's. Any other key in two
// stacks is an error: a test would read one of them at random.
func MergeOutputs(root map[string]string, nested map[string]map[string]string) (map[string]string, error) {
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
