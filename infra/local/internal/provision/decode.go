package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// flexInt reads an integer property written either as a number or as a string, as
// CloudFormation accepts both (VisibilityTimeout: 60 and VisibilityTimeout: "60").
type flexInt struct {
	set bool
	n   int64
}

func (f *flexInt) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*f = flexInt{set: true, n: n}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("%s is not an integer", data)
	}
	i, err := n.Int64()
	if err != nil {
		return fmt.Errorf("%s is not an integer", data)
	}
	*f = flexInt{set: true, n: i}
	return nil
}

// flexBool reads a boolean property written either as a boolean or as "true"/"false".
type flexBool struct {
	set bool
	b   bool
}

func (f *flexBool) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		*f = flexBool{set: true, b: b}
		return nil
	}
	var b bool
	if err := json.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("%s is not a boolean", data)
	}
	*f = flexBool{set: true, b: b}
	return nil
}

// jsonDocument reads a property CloudFormation types as Json: either an object written in the
// template or a string holding one. It keeps the object.
type jsonDocument struct {
	set bool
	doc map[string]any
}

func (d *jsonDocument) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		data = []byte(s)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	*d = jsonDocument{set: true, doc: doc}
	return nil
}

// String renders the document compactly, with keys sorted, the form the APIs take.
func (d jsonDocument) String() string {
	s, _ := compactJSON(d.doc)
	return s
}

// compactJSON encodes v without escaping <, > and &: a filter policy's ">" must reach SNS as
// written, not as \u003e.
func compactJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
