package imports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Limits on one record.
const (
	maxOrderIDLength  = 64
	maxCustomerLength = 200
	// maxAmount bounds an amount in minor units (a hundred billion in a two-decimal currency).
	maxAmount = 10_000_000_000_000
)

// csvHeader is the optional first line of a CSV file.
const csvHeader = "id,customer,amount,currency"

// Order is one valid record, as it is stored: keyed by its import and line, so writing it again
// overwrites it instead of adding a second copy.
type Order struct {
	ImportID string `dynamodbav:"importId"`
	Line     int64  `dynamodbav:"line"`
	OrderID  string `dynamodbav:"orderId"`
	Customer string `dynamodbav:"customer"`
	// Amount is in the currency's minor units (cents), never a float.
	Amount   int64  `dynamodbav:"amount"`
	Currency string `dynamodbav:"currency"`
}

// orderJSON is an NDJSON line. Amount is kept raw so 12.5, 1e3 or "12" are rejected, not rounded
// or converted.
type orderJSON struct {
	ID       string         `json:"id"`
	Customer string         `json:"customer"`
	Amount   jsontext.Value `json:"amount"`
	Currency string         `json:"currency"`
}

// parseLine turns one line (without its line ending) into an order, or says why it is rejected.
// skip is true for lines that are not records: blank lines and a CSV header on line 1.
func parseLine(format Format, line int64, text []byte) (order Order, reason string, skip bool) {
	if len(bytes.TrimSpace(text)) == 0 {
		return Order{}, "", true
	}
	if !utf8.Valid(text) {
		return Order{}, "not valid UTF-8", false
	}
	var id, customer, amount, currency string
	switch format {
	case FormatCSV:
		if line == 1 && strings.EqualFold(strings.TrimSpace(string(text)), csvHeader) {
			return Order{}, "", true
		}
		fields, err := csvFields(text)
		if err != nil {
			return Order{}, "malformed CSV: " + err.Error(), false
		}
		if len(fields) != 4 {
			return Order{}, fmt.Sprintf("want 4 fields (id,customer,amount,currency), got %d", len(fields)), false
		}
		id, customer, amount, currency = fields[0], fields[1], fields[2], fields[3]
	case FormatNDJSON:
		// The same JSON v2 semantics as every request body (shared/httpapi): exact-case names,
		// a name given twice refused (else {"amount":1,"Amount":1000} imports 1000), unknown
		// names refused, one object and nothing after it.
		dec := jsontext.NewDecoder(bytes.NewReader(text))
		value, err := dec.ReadValue()
		if err != nil {
			return Order{}, "malformed JSON: " + jsonReason(err), false
		}
		value = value.Clone() // valid only until the decoder's next read
		if _, err := dec.ReadToken(); err != io.EOF {
			return Order{}, "malformed JSON: more than one value on the line", false
		}
		if value.Kind() != '{' {
			return Order{}, "malformed JSON: not a JSON object", false
		}
		var o orderJSON
		if err := json.Unmarshal(value, &o, json.RejectUnknownMembers(true)); err != nil {
			return Order{}, "malformed JSON: " + jsonReason(err), false
		}
		if len(o.Amount) == 0 || o.Amount.Kind() != '0' {
			return Order{}, "field amount has the wrong type: want a whole number of minor units", false
		}
		id, customer, amount, currency = o.ID, o.Customer, string(o.Amount), o.Currency
	default:
		return Order{}, fmt.Sprintf("unsupported format %q", format), false
	}
	o, reason := validate(id, customer, amount, currency)
	o.Line = line
	return o, reason, false
}

// csvFields splits one CSV line; the common case without quotes needs no csv.Reader.
func csvFields(text []byte) ([]string, error) {
	if bytes.IndexByte(text, '"') < 0 {
		return strings.Split(string(text), ","), nil
	}
	r := csv.NewReader(bytes.NewReader(text))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return nil, err
	}
	if _, err := r.Read(); err == nil {
		return nil, fmt.Errorf("a quoted field spans lines")
	}
	return fields, nil
}

// validate applies the rules of an order to its fields.
func validate(id, customer, amount, currency string) (Order, string) {
	id, customer, amount, currency = strings.TrimSpace(id), strings.TrimSpace(customer), strings.TrimSpace(amount), strings.TrimSpace(currency)
	switch {
	case id == "":
		return Order{}, "id is empty"
	case len(id) > maxOrderIDLength:
		return Order{}, fmt.Sprintf("id is longer than %d bytes", maxOrderIDLength)
	case customer == "":
		return Order{}, "customer is empty"
	case utf8.RuneCountInString(customer) > maxCustomerLength:
		return Order{}, fmt.Sprintf("customer is longer than %d characters", maxCustomerLength)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Order{}, "id may hold only letters, digits, - and _"
		}
	}
	n, err := strconv.ParseInt(amount, 10, 64)
	if err != nil {
		return Order{}, fmt.Sprintf("amount %q is not a whole number of minor units", truncate(amount, 32))
	}
	if n <= 0 || n > maxAmount {
		return Order{}, fmt.Sprintf("amount %d is out of range (1 to %d)", n, int64(maxAmount))
	}
	if len(currency) != 3 || strings.ToUpper(currency) != currency || strings.IndexFunc(currency, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return Order{}, fmt.Sprintf("currency %q is not an ISO 4217 code", truncate(currency, 16))
	}
	return Order{OrderID: id, Customer: customer, Amount: n, Currency: currency}, ""
}

// jsonReason names what is wrong without echoing Go type names.
func jsonReason(err error) string {
	if syntaxErr, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		if errors.Is(syntaxErr.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("field %s appears more than once", syntaxErr.JSONPointer.LastToken())
		}
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.ByteOffset)
	}
	if semErr, ok := errors.AsType[*json.SemanticError](err); ok {
		if errors.Is(semErr.Err, json.ErrUnknownName) {
			return "unknown field " + strconv.Quote(semErr.JSONPointer.LastToken())
		}
		return fmt.Sprintf("field %s has the wrong type", semErr.JSONPointer.LastToken())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the line ends too soon"
	}
	return "not a JSON object"
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
