package iam

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tok is one element of a pattern after policy variables are replaced: a literal rune or a
// wildcard. Wildcards keep their rune in r, so that a pattern read as a plain string (StringEquals)
// is the text as written.
type tok struct {
	r rune
	// wild is '*' or '?' for a wildcard, 0 for a literal.
	wild rune
	// colon says whether the wildcard may match ':'; ARN matching limits most wildcards to one
	// colon-separated segment.
	colon bool
}

// text is a pattern's text with its wildcards as literal characters.
func text(toks []tok) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteRune(t.r)
	}
	return b.String()
}

// lookup returns the values of a condition key in a request context. Condition key names are
// case-insensitive; a key with no values counts as absent.
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	var out []string
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			out = append(out, v...)
		}
	}
	return out, len(out) > 0
}

// variable is the parsed inside of a ${...} policy variable.
type variable struct {
	// literal is the character of ${*}, ${?} or ${$}; 0 for a condition key.
	literal rune
	key     string
	// def is the default value of ${key, 'default'}; hasDefault tells "" from none.
	def        string
	hasDefault bool
}

// parseVariable reads the inside of ${...}: *, ? or $, a condition key, or a key with a default
// value written as ${key, 'default'}.
func parseVariable(inner string) (variable, error) {
	switch inner {
	case "*", "?", "$":
		return variable{literal: rune(inner[0])}, nil
	}
	key, def, hasDefault := strings.Cut(inner, ",")
	key = strings.TrimSpace(key)
	v := variable{key: key}
	if hasDefault {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return variable{}, fmt.Errorf("policy variable ${%s}: a default value is written ${key, 'value'}", inner)
		}
		v.def, v.hasDefault = def[1:len(def)-1], true
	}
	if !KnownConditionKey(key) {
		return variable{}, fmt.Errorf("unknown policy variable ${%s}", inner)
	}
	if multivalued(key) {
		return variable{}, fmt.Errorf("policy variable ${%s}: a multivalued condition key cannot be a policy variable", inner)
	}
	return v, nil
}

// checkVariables reports a malformed or unknown policy variable in s.
func checkVariables(s string) error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return nil
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return fmt.Errorf("unterminated policy variable in %q", s)
		}
		if _, err := parseVariable(s[i+2 : i+j]); err != nil {
			return err
		}
		s = s[i+j+1:]
	}
}

// expand turns a pattern as written into tokens. With vars (policy language 2012-10-17), each
// ${...} is replaced by its value: the literal character for ${*}, ${?} and ${$}, the request's
// value of a condition key otherwise, or the variable's default. ok is false when a variable has
// no value: AWS then treats the pattern as matching nothing. Without vars, ${...} is literal text,
// as in the 2008-10-17 language.
func expand(s string, vars bool, ctx map[string][]string) (toks []tok, ok bool) {
	for len(s) > 0 {
		if vars && strings.HasPrefix(s, "${") {
			if end := strings.Index(s, "}"); end >= 0 {
				v, err := parseVariable(s[2:end])
				if err != nil {
					// ParsePolicy refuses these; a hand-built policy matches nothing.
					return nil, false
				}
				s = s[end+1:]
				if v.literal != 0 {
					toks = append(toks, tok{r: v.literal})
					continue
				}
				value, present := variableValue(v, ctx)
				if !present {
					return nil, false
				}
				for _, r := range value {
					toks = append(toks, tok{r: r})
				}
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		t := tok{r: r}
		if r == '*' || r == '?' {
			t.wild = r
		}
		toks = append(toks, t)
	}
	return toks, true
}

// variableValue is what ${key} stands for in a request: the key's one value, else the default.
func variableValue(v variable, ctx map[string][]string) (string, bool) {
	if values, ok := lookup(ctx, v.key); ok && len(values) == 1 {
		return values[0], true
	}
	return v.def, v.hasDefault
}

// anywhere lets every wildcard match any character: StringLike and Action matching.
func anywhere(toks []tok) []tok {
	for i := range toks {
		toks[i].colon = true
	}
	return toks
}

// resourceSegments applies the Resource element's rules: a wildcard stays within its
// colon-separated ARN segment, except that a * ending a segment may run past the colons after it;
// in the resource part (after the fifth colon) every wildcard matches anything.
func resourceSegments(toks []tok) []tok {
	seg := 0
	for i := range toks {
		t := &toks[i]
		if t.wild == 0 {
			if t.r == ':' {
				seg++
			}
			continue
		}
		endsSegment := i+1 == len(toks) || (toks[i+1].wild == 0 && toks[i+1].r == ':')
		t.colon = seg >= 5 || (t.wild == '*' && endsSegment)
	}
	return toks
}

// arnSegments applies the ARN condition operators' rules: each of the six colon-separated
// components is matched on its own, so wildcards before the fifth colon never match ':'.
func arnSegments(toks []tok) []tok {
	seg := 0
	for i := range toks {
		t := &toks[i]
		if t.wild == 0 {
			if t.r == ':' {
				seg++
			}
			continue
		}
		t.colon = seg >= 5
	}
	return toks
}

// match reports whether s matches the pattern p.
func match(p []tok, s string) bool {
	r := []rune(s)
	// next[j] says whether p[i+1:] matches r[j:]; cur is the same for p[i:].
	next := make([]bool, len(r)+1)
	cur := make([]bool, len(r)+1)
	next[len(r)] = true
	for i := len(p) - 1; i >= 0; i-- {
		t := p[i]
		for j := len(r); j >= 0; j-- {
			more := j < len(r)
			fits := more && (t.colon || r[j] != ':')
			switch t.wild {
			case '*':
				cur[j] = next[j] || (fits && cur[j+1])
			case '?':
				cur[j] = fits && next[j+1]
			default:
				cur[j] = more && r[j] == t.r && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// actionMatches reports whether an action pattern from a policy covers action. Actions are
// case-insensitive; * and ? match anywhere.
func actionMatches(pattern, action string) bool {
	toks, _ := expand(strings.ToLower(pattern), false, nil)
	return match(anywhere(toks), strings.ToLower(action))
}

// resourceMatches reports whether a Resource pattern covers the resource ARN in a request.
// Resources are case-sensitive.
func resourceMatches(pattern, resource string, vars bool, ctx map[string][]string) bool {
	toks, ok := expand(pattern, vars, ctx)
	if !ok {
		return false
	}
	return match(resourceSegments(toks), resource)
}
