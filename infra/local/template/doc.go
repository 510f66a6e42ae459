// Package template reads a SAM template.yaml into plain Go values and resolves its intrinsic
// functions (Ref, Fn::GetAtt, Fn::Sub, ...) to the values they have on a local run.
//
// It is the only place in the local runner that parses templates: the provisioner, the lambda
// pool and the event sources all work from the model it returns, so a template feature is
// understood in one place or not at all. Short-form YAML tags (!Ref, !Sub, ...) are rewritten to
// their long form when the file is loaded; nothing downstream sees a YAML tag. Load reads one
// file as written; LoadApp also reads the nested applications it declares and flattens them into
// one template, so that everything downstream runs an application of nested stacks as one stack.
// SQSEventRefusals says what Lambda would refuse of an SQS event, for the runner, which refuses
// to start such a template, and the template rules (tests/template) alike.
package template
