// Package invalid is the one shape of a refusal that names the request field at fault and says
// why: "durationMs must be between 0 and 20000".
//
// Domain packages return a *Param from their validation; they never import the HTTP edge, and the
// edge never needs to know their types. shared/httpapi recognises the behaviour, any error with an
// InvalidParam() (name, reason string) method, and answers it with a 400 problem whose
// invalid-params member names the field. So a service's rules say what is wrong in the caller's
// terms, once, and every service answers it the same way.
package invalid

// Param is a request field at fault and why. Name is the field as the caller wrote it, with a path
// into nested values where there is one ("items[3].durationMs"); Reason completes a sentence that
// starts with the name ("must be between 0 and 5000").
type Param struct {
	Name   string
	Reason string
}

// Error returns "invalid <name>: <reason>", for logs and tests.
func (p *Param) Error() string {
	return "invalid " + p.Name + ": " + p.Reason
}

// InvalidParam returns the field's name and the reason it is refused.
func (p *Param) InvalidParam() (name, reason string) {
	return p.Name, p.Reason
}
