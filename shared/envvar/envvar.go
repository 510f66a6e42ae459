// Package envvar reads a function's configuration from its environment variables, which the
// template sets. It exists so every main fails the same way, at cold start and with every
// missing name in one message, instead of at the first request that needs the value.
package envvar

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Require returns the values of names, or an error listing each one that is unset or empty.
func Require(names ...string) (map[string]string, error) {
	values := make(map[string]string, len(names))
	var missing []string
	for _, name := range names {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			missing = append(missing, name)
			continue
		}
		values[name] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	return values, nil
}

// Int returns the integer in name, or def when it is unset; an unparsable value is an error.
func Int(name string, def int) (int, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("environment variable %s: %q is not an integer", name, v)
	}
	return n, nil
}

// Fraction returns the number in name, which must be between 0 and 1, or def when it is unset.
func Fraction(name string, def float64) (float64, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("environment variable %s: %q is not a number between 0 and 1", name, v)
	}
	return f, nil
}
