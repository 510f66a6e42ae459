package iam

import (
	"fmt"
	"strconv"
	"strings"
)

// family groups the condition operators that compare alike.
type family int

const (
	familyString family = iota
	familyStringIgnoreCase
	familyStringLike
	familyARN
	familyNumeric
	familyBool
	familyNull
)

// operators are the base condition operators the evaluator knows: their family, whether they are
// the negation of the family's test, and for numbers the comparison.
var operators = map[string]struct {
	family  family
	negated bool
	compare func(request, policy float64) bool
}{
	"StringEquals":              {family: familyString},
	"StringNotEquals":           {family: familyString, negated: true},
	"StringEqualsIgnoreCase":    {family: familyStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {family: familyStringIgnoreCase, negated: true},
	"StringLike":                {family: familyStringLike},
	"StringNotLike":             {family: familyStringLike, negated: true},
	"ArnEquals":                 {family: familyARN},
	"ArnLike":                   {family: familyARN},
	"ArnNotEquals":              {family: familyARN, negated: true},
	"ArnNotLike":                {family: familyARN, negated: true},
	"NumericEquals":             {family: familyNumeric, compare: func(r, p float64) bool { return r == p }},
	"NumericNotEquals":          {family: familyNumeric, negated: true, compare: func(r, p float64) bool { return r == p }},
	"NumericLessThan":           {family: familyNumeric, compare: func(r, p float64) bool { return r < p }},
	"NumericLessThanEquals":     {family: familyNumeric, compare: func(r, p float64) bool { return r <= p }},
	"NumericGreaterThan":        {family: familyNumeric, compare: func(r, p float64) bool { return r > p }},
	"NumericGreaterThanEquals":  {family: familyNumeric, compare: func(r, p float64) bool { return r >= p }},
	"Bool":                      {family: familyBool},
	"Null":                      {family: familyNull},
}

// Set qualifiers of a condition operator, for keys with several values in one request.
const (
	forAnyValue  = "ForAnyValue"
	forAllValues = "ForAllValues"
)

// operator is a condition operator taken apart: ForAllValues:StringLikeIfExists is the
// qualifier ForAllValues, the base StringLike, and IfExists.
type operator struct {
	qualifier string
	base      string
	ifExists  bool
}

// parseOperator takes a condition operator apart, refusing those the evaluator does not know.
func parseOperator(name string) (operator, error) {
	var op operator
	rest := name
	if q, r, ok := strings.Cut(rest, ":"); ok {
		if q != forAnyValue && q != forAllValues {
			return operator{}, fmt.Errorf("condition operator %q: the set qualifiers are %s: and %s:", name, forAnyValue, forAllValues)
		}
		op.qualifier, rest = q, r
	}
	if base, ok := strings.CutSuffix(rest, "IfExists"); ok {
		op.ifExists, rest = true, base
	}
	op.base = rest
	def, ok := operators[op.base]
	switch {
	case !ok:
		return operator{}, fmt.Errorf("condition operator %q is not one the local evaluator knows", name)
	case def.family == familyNull && (op.ifExists || op.qualifier != ""):
		return operator{}, fmt.Errorf("condition operator %q: Null takes neither IfExists nor a set qualifier", name)
	}
	return op, nil
}

// check refuses a policy value the operator cannot compare.
func (op operator) check(value string, vars bool) error {
	switch operators[op.base].family {
	case familyBool, familyNull:
		if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return fmt.Errorf("value %q is neither true nor false", value)
		}
	case familyNumeric:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return fmt.Errorf("value %q is not a number", value)
		}
	default:
		if vars {
			return checkVariables(value)
		}
	}
	return nil
}

// holds reports whether the condition holds for a request context. vars says whether ${...} in
// values are policy variables. A condition whose operator ParsePolicy would refuse never holds.
func (c Condition) holds(ctx map[string][]string, vars bool) bool {
	op, err := parseOperator(c.Operator)
	if err != nil {
		return false
	}
	def := operators[op.base]
	values, present := lookup(ctx, c.Key)

	if def.family == familyNull {
		// Null: true asks for the key to be absent, false for it to be present.
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case op.ifExists:
			return true
		case op.qualifier == forAllValues:
			// Every one of no values matches.
			return true
		case op.qualifier == forAnyValue:
			return false
		default:
			// A missing key matches no value: the negated operators hold.
			return def.negated
		}
	}

	// test is the operator's result for one value from the request.
	test := func(v string) bool {
		return c.matchesAny(def.family, def.compare, v, ctx, vars) != def.negated
	}
	switch op.qualifier {
	case forAnyValue:
		for _, v := range values {
			if test(v) {
				return true
			}
		}
		return false
	case forAllValues:
		for _, v := range values {
			if !test(v) {
				return false
			}
		}
		return true
	default:
		// A single-valued key: one value. Should a request carry several, the positive operators
		// hold if one matches, the negated ones if none does.
		for _, v := range values {
			if c.matchesAny(def.family, def.compare, v, ctx, vars) {
				return !def.negated
			}
		}
		return def.negated
	}
}

// matchesAny reports whether the request value v matches one of the condition's values under
// the family's positive test (StringEquals for StringNotEquals, and so on). A value whose policy
// variable has no value matches nothing.
func (c Condition) matchesAny(f family, compare func(r, p float64) bool, v string, ctx map[string][]string, vars bool) bool {
	for _, pv := range c.Values {
		switch f {
		case familyBool:
			if strings.EqualFold(v, pv) {
				return true
			}
		case familyNumeric:
			r, err1 := strconv.ParseFloat(v, 64)
			p, err2 := strconv.ParseFloat(pv, 64)
			if err1 == nil && err2 == nil && compare(r, p) {
				return true
			}
		default:
			toks, ok := expand(pv, vars, ctx)
			if !ok {
				continue
			}
			switch f {
			case familyString:
				if v == text(toks) {
					return true
				}
			case familyStringIgnoreCase:
				if strings.EqualFold(v, text(toks)) {
					return true
				}
			case familyStringLike:
				if match(anywhere(toks), v) {
					return true
				}
			case familyARN:
				if match(arnSegments(toks), v) {
					return true
				}
			}
		}
	}
	return false
}
