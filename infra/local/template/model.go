package template

import "time"

// Value is a template value as written: a string, number, bool, list ([]any), map (map[string]any),
// or an intrinsic function in its long form ({"Ref": "X"}, {"Fn::GetAtt": ["X", "Arn"]},
// {"Fn::Sub": "..."}). Short-form tags (!Ref, !GetAtt, !Sub, ...) are rewritten to the long form
// when the template is loaded, so nothing downstream ever sees a YAML tag.
type Value = any

// Template is what template.yaml declares, as written: Resources hold each resource's own
// properties, and Functions returns the functions with SAM Globals merged in.
type Template struct {
	// Dir is the directory that holds template.yaml; CodeUri paths are relative to it.
	Dir string
	// Parameters are the declared parameters with their defaults.
	Parameters map[string]Parameter
	// Resources are every declared resource by logical ID.
	Resources map[string]Resource
	// Outputs are the declared outputs by logical ID.
	Outputs map[string]Value
	// Conditions are the declared conditions by name, each an unevaluated condition function
	// (Fn::Equals, Fn::Not, Fn::And, Fn::Or, or {"Condition": name}).
	Conditions map[string]Value
	// Mappings are the declared mappings: map name → top-level key → second-level key → value.
	Mappings map[string]map[string]map[string]Value
	// Globals is SAM's Globals section by resource kind (Function, HttpApi, ...), unmerged.
	// Functions merges Globals.Function into each function. After LoadApp it is the root
	// template's: each nested template's Globals are merged into its own resources already.
	Globals map[string]map[string]Value
	// Apps are the nested applications LoadApp flattened into the template, by path (see
	// Resource.Stack); empty after Load.
	Apps map[string]App
}

// App is a nested AWS::Serverless::Application that LoadApp flattened into the root template.
type App struct {
	// Path names the application from the root: its logical ID, after its parent's path and a
	// dot when it is nested deeper ("JobsApp", "JobsApp.WorkerApp").
	Path string
	// Location is its template file, relative to Template.Dir.
	Location string
	// Outputs are its template's Outputs, each a mapping with Value (and Description, Condition,
	// ...), rewritten like everything LoadApp flattens: resolve them with the root's Bindings.
	Outputs map[string]Value
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Type    string
	Default Value
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]Value
	Metadata   map[string]Value
	// Condition names the condition that decides whether the resource exists, "" when always.
	Condition string
	// DependsOn lists the logical IDs the resource explicitly depends on.
	DependsOn []string
	// Stack is the path of the nested application whose template declares the resource (see
	// App.Path), "" for the root template's own and always "" after Load. Physical names are
	// made from that stack's name: Bindings.StackNameOf.
	Stack string
}

// Function is an AWS::Serverless::Function with Globals applied and its properties typed.
type Function struct {
	LogicalID string
	// Stack is the nested application that declares the function, "" for the root (Resource.Stack).
	Stack string
	// CodeURI is the function's CodeUri, relative to Template.Dir.
	CodeURI string
	// Package is the directory of the function's main package, relative to Template.Dir:
	// <CodeUri>/cmd/<logical ID without the "Function" suffix, in kebab case>
	// (SubmitJobFunction in services/jobs → services/jobs/cmd/submit-job).
	Package string
	// Timeout is the function's Timeout (SAM's default is 3 s).
	Timeout time.Duration
	// MemoryMB is the function's MemorySize (SAM's default is 128).
	MemoryMB int
	// ReservedConcurrency is ReservedConcurrentExecutions, 0 when not set.
	ReservedConcurrency int
	// LogFormat and LogLevel come from LoggingConfig (LogFormat, ApplicationLogLevel).
	LogFormat string
	LogLevel  string
	// Environment is Environment.Variables, unresolved.
	Environment map[string]Value
	// Events are the function's event sources, by their key under Events.
	Events []Event
	// Properties are all of the function's properties after Globals, for anything not typed above.
	Properties map[string]Value
}

// Event is one entry of a function's Events: its Type (HttpApi, SQS, S3, DynamoDB, SNS, ...)
// and its raw Properties. Each local event source decodes the properties it understands.
type Event struct {
	Name       string
	Type       string
	Properties map[string]Value
}
