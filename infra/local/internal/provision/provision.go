package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-serverless/reference/infra/local/template"
)

// Resource types this package provisions or binds.
const (
	typeTable          = "AWS::DynamoDB::Table"
	typeQueue          = "AWS::SQS::Queue"
	typeTopic          = "AWS::SNS::Topic"
	typeSubscription   = "AWS::SNS::Subscription"
	typeBucket         = "AWS::S3::Bucket"
	typeFunction       = template.TypeFunction
	typeHTTPAPI        = "AWS::Serverless::HttpApi"
	typeUserPool       = "AWS::Cognito::UserPool"
	typeUserPoolClient = "AWS::Cognito::UserPoolClient"
	typeRole           = "AWS::IAM::Role"
	typeLogGroup       = "AWS::Logs::LogGroup"
	typeKMSKey         = "AWS::KMS::Key"
	typeApplication    = template.TypeApplication
)

// Clients are the stand-ins' API clients. A client may be nil when the template declares
// nothing of its kind; *dynamodb.Client, *sqs.Client, *sns.Client and *s3.Client satisfy them.
type Clients struct {
	DynamoDB DynamoDB
	SQS      SQS
	SNS      SNS
	S3       S3
}

// Options tune provisioning for the way the stand-ins are used.
type Options struct {
	// MaxVisibilityTimeout, when non-zero, lowers each queue's VisibilityTimeout (declared, or
	// SQS's default of 30 s when absent) toward this value, rounded up to whole seconds, but never
	// below the longest Timeout of the functions the queue's SQS events feed (rounded up to whole
	// seconds too): that is the least AWS accepts for an SQS event source, and the runner refuses
	// less at start-up, as AWS refuses the mapping. A queue no SQS event reads (a dead-letter queue
	// read by tests, a failure destination) goes down to the value itself. A declared value is
	// never raised: one already below its consumers' Timeout stays so, for the runner to refuse.
	//
	// TEST-SPEED DEVIATION FROM THE TEMPLATE: it exists so that end-to-end tests see a failed
	// message reappear (and reach its dead-letter queue) after one Timeout of its consumer instead
	// of the 6 × Timeout AWS advises. A queue provisioned with it no longer protects a function
	// throttled mid-batch from duplicate deliveries the way the declared value does. Leave it zero
	// for `make run`.
	MaxVisibilityTimeout time.Duration
}

// Resources are what Provision created or bound, by logical ID.
type Resources struct {
	Tables map[string]Table
	Queues map[string]Queue
	Topics map[string]Topic
	// Subscriptions are the SNS subscriptions to SQS queues, in the order they were made.
	Subscriptions []Subscription
	Buckets       map[string]Bucket
	// FunctionNames maps each function's logical ID to its local function name.
	FunctionNames map[string]string
	// RoleNames maps each AWS::IAM::Role's logical ID to its name, and <function>Role to the name
	// of the role SAM generates for a function without Role (nothing is created: the local IAM
	// enforcement reads the role's policies from the template).
	RoleNames map[string]string
	// Skipped lists the resources with nothing local behind them, sorted by logical ID,
	// for the runner to report once.
	Skipped []Skipped
}

// Table is a provisioned DynamoDB table.
type Table struct {
	LogicalID string
	Name      string
	// ARN names the table in the configured region (DynamoDB Local's own ARNs say "ddblocal").
	ARN string
	// StreamARN is the table's latest stream ARN exactly as DynamoDB Local returns it, so that
	// it works with the streams API; empty when the table has no stream.
	StreamARN string
}

// Queue is a provisioned SQS queue.
type Queue struct {
	LogicalID string
	Name      string
	// URL is the queue URL as the stand-in returns it; send requests to the configured
	// endpoint, never to this URL's host.
	URL string
	ARN string
	// VisibilityTimeout is the queue's visibility timeout as provisioned: the declared one (SQS's
	// default of 30 s when the template sets none), or lower with Options.MaxVisibilityTimeout.
	VisibilityTimeout time.Duration
}

// Topic is a provisioned SNS topic.
type Topic struct {
	LogicalID string
	Name      string
	ARN       string
}

// Subscription is a provisioned SNS subscription.
type Subscription struct {
	// LogicalID is the AWS::SNS::Subscription's, or "<Topic>.Subscription[<i>]" for an entry of
	// a topic's inline Subscription list.
	LogicalID string
	ARN       string
	TopicARN  string
	Protocol  string
	Endpoint  string
}

// Bucket is a provisioned S3 bucket.
type Bucket struct {
	LogicalID string
	Name      string
	ARN       string
}

// Skipped is a resource Provision did not create, and why.
type Skipped struct {
	LogicalID string
	Type      string
	Reason    string
}

// QueueByARN returns the queue whose ARN is arn.
func (r *Resources) QueueByARN(arn string) (Queue, bool) {
	for _, q := range r.Queues {
		if q.ARN == arn {
			return q, true
		}
	}
	return Queue{}, false
}

// TableByStreamARN returns the table whose stream ARN is arn.
func (r *Resources) TableByStreamARN(arn string) (Table, bool) {
	for _, t := range r.Tables {
		if t.StreamARN != "" && t.StreamARN == arn {
			return t, true
		}
	}
	return Table{}, false
}

// handler provisions or binds one resource type. keys are the properties it resolves: only
// references inside them order provisioning, so an ignored property (Tags, KmsMasterKeyId)
// never makes a resource wait for, or fail on, something that is not provisioned.
type handler struct {
	keys      []string
	provision func(ctx context.Context, r template.Resource) error
}

// handlerFor returns the handler for a resource type, false for types with nothing local.
func (p *provisioner) handlerFor(typ string) (handler, bool) {
	switch typ {
	case typeTable:
		return handler{keys: propertyNames(tableProperties{}), provision: p.table}, true
	case typeQueue:
		return handler{keys: propertyNames(queueProperties{}), provision: p.queue}, true
	case typeTopic:
		return handler{keys: propertyNames(topicProperties{}), provision: p.topic}, true
	case typeSubscription:
		return handler{keys: propertyNames(subscriptionProperties{}), provision: p.subscription}, true
	case typeBucket:
		return handler{keys: propertyNames(bucketProperties{}), provision: p.bucket}, true
	case typeFunction:
		return handler{keys: propertyNames(functionProperties{}), provision: p.function}, true
	case typeHTTPAPI:
		return handler{provision: p.httpAPI}, true
	case typeUserPool:
		return handler{provision: p.userPool}, true
	case typeUserPoolClient:
		return handler{provision: p.userPoolClient}, true
	case typeRole:
		return handler{keys: propertyNames(roleProperties{}), provision: p.role}, true
	case typeLogGroup:
		return handler{keys: propertyNames(logGroupProperties{}), provision: p.logGroup}, true
	case typeKMSKey:
		return handler{provision: p.kmsKey}, true
	case typeApplication:
		return handler{provision: p.application}, true
	default:
		return handler{}, false
	}
}

// provisioner carries one Provision call's inputs and accumulates its result.
type provisioner struct {
	clients  Clients
	t        *template.Template
	bindings *template.Bindings
	opts     Options
	out      *Resources
}

// Provision creates every supported resource of t on the stand-ins, in dependency order, and
// records in b what each one's Ref and Fn::GetAtt resolve to. Values already set in b for
// resources with no stand-in (the HTTP API, Cognito) are kept: the runner sets those first.
// Running it again against the same stand-ins reuses what exists.
func Provision(ctx context.Context, c Clients, t *template.Template, b *template.Bindings, opts Options) (*Resources, error) {
	if opts.MaxVisibilityTimeout < 0 {
		return nil, fmt.Errorf("provision: negative MaxVisibilityTimeout %v", opts.MaxVisibilityTimeout)
	}
	p := &provisioner{
		clients:  c,
		t:        t,
		bindings: b,
		opts:     opts,
		out: &Resources{
			Tables:        map[string]Table{},
			Queues:        map[string]Queue{},
			Topics:        map[string]Topic{},
			Buckets:       map[string]Bucket{},
			FunctionNames: map[string]string{},
			RoleNames:     map[string]string{},
		},
	}

	// A resource's condition is evaluated when its turn comes, not up front: in a nested
	// application it may depend on what the parent passes, such as a topic the root creates.
	var active, unsupported []template.Resource
	for _, r := range sortedResources(t) {
		if _, ok := p.handlerFor(r.Type); !ok {
			unsupported = append(unsupported, r)
			continue
		}
		if _, flattened := t.Apps[appPath(r)]; r.Type == typeApplication && !flattened {
			p.skip(r, "its template is not part of the local run (template.LoadApp runs nested applications with a local Location)")
			continue
		}
		active = append(active, r)
	}

	ordered, err := p.dependencyOrder(active)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	bindImplicitHTTPAPI(t, b)
	for _, r := range ordered {
		if r.Condition != "" {
			ok, err := b.Condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("provision %s: %w", r.LogicalID, err)
			}
			if !ok {
				p.skip(r, fmt.Sprintf("condition %s is false", r.Condition))
				continue
			}
		}
		h, _ := p.handlerFor(r.Type)
		if err := h.provision(ctx, r); err != nil {
			return nil, fmt.Errorf("provision %s (%s): %w", r.LogicalID, r.Type, err)
		}
	}
	if err := p.lowerVisibilityTimeouts(ctx); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	for _, r := range unsupported {
		// Nothing to create either way; the condition only says which reason to report.
		if ok, err := b.Condition(r.Condition); r.Condition != "" && err == nil && !ok {
			p.skip(r, fmt.Sprintf("condition %s is false", r.Condition))
		} else {
			p.skip(r, "no local stand-in for this type")
		}
	}
	sort.Slice(p.out.Skipped, func(i, j int) bool { return p.out.Skipped[i].LogicalID < p.out.Skipped[j].LogicalID })
	return p.out, nil
}

func (p *provisioner) skip(r template.Resource, reason string) {
	p.out.Skipped = append(p.out.Skipped, Skipped{LogicalID: r.LogicalID, Type: r.Type, Reason: reason})
}

func sortedResources(t *template.Template) []template.Resource {
	out := make([]template.Resource, 0, len(t.Resources))
	for _, r := range t.Resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// dependencyOrder sorts resources so that each comes after those its resolved properties
// refer to or it DependsOn, breaking ties by logical ID. References to resources outside the
// set are left to resolution, which reports them.
func (p *provisioner) dependencyOrder(rs []template.Resource) ([]template.Resource, error) {
	byID := make(map[string]template.Resource, len(rs))
	for _, r := range rs {
		byID[r.LogicalID] = r
	}
	waitsFor := map[string]map[string]bool{}
	dependents := map[string][]string{}
	for _, r := range rs {
		deps := map[string]bool{}
		names := append([]string(nil), r.DependsOn...)
		if r.Condition != "" {
			names = append(names, conditionReferences(p.t, r.Condition, map[string]bool{})...)
		}
		h, _ := p.handlerFor(r.Type)
		for _, key := range h.keys {
			if v, ok := r.Properties[key]; ok {
				names = append(names, template.References(v)...)
			}
		}
		for _, name := range names {
			if _, ok := byID[name]; ok && name != r.LogicalID && !deps[name] {
				deps[name] = true
				dependents[name] = append(dependents[name], r.LogicalID)
			}
		}
		waitsFor[r.LogicalID] = deps
	}

	var ready []string
	for _, r := range rs {
		if len(waitsFor[r.LogicalID]) == 0 {
			ready = append(ready, r.LogicalID)
		}
	}
	var out []template.Resource
	for len(ready) > 0 {
		sort.Strings(ready)
		id := ready[0]
		ready = ready[1:]
		out = append(out, byID[id])
		for _, d := range dependents[id] {
			delete(waitsFor[d], id)
			if len(waitsFor[d]) == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(out) != len(rs) {
		var stuck []string
		for _, r := range rs {
			if len(waitsFor[r.LogicalID]) > 0 {
				stuck = append(stuck, r.LogicalID)
			}
		}
		return nil, fmt.Errorf("resources refer to each other in a cycle: %s", strings.Join(stuck, ", "))
	}
	return out, nil
}

// conditionReferences returns the names condition name refers to (see template.References),
// through the conditions it names as well.
func conditionReferences(t *template.Template, name string, seen map[string]bool) []string {
	if seen[name] {
		return nil
	}
	seen[name] = true
	expr := t.Conditions[name]
	out := template.References(expr)
	for _, named := range namedConditions(expr) {
		out = append(out, conditionReferences(t, named, seen)...)
	}
	return out
}

// namedConditions returns the names of the {"Condition": name} in a condition expression.
func namedConditions(v template.Value) []string {
	switch x := v.(type) {
	case []template.Value:
		var out []string
		for _, e := range x {
			out = append(out, namedConditions(e)...)
		}
		return out
	case map[string]template.Value:
		if name, ok := x["Condition"].(string); ok && len(x) == 1 {
			return []string{name}
		}
		var out []string
		for _, e := range x {
			out = append(out, namedConditions(e)...)
		}
		return out
	}
	return nil
}

// resolveProps resolves the listed properties of r; absent ones stay absent.
func (p *provisioner) resolveProps(r template.Resource, keys []string) (map[string]template.Value, error) {
	out := map[string]template.Value{}
	for _, k := range keys {
		v, ok := r.Properties[k]
		if !ok {
			continue
		}
		rv, err := p.bindings.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", k, err)
		}
		if rv != nil {
			out[k] = rv
		}
	}
	return out, nil
}

// decodeProps resolves the properties of r that dst declares and decodes them into dst,
// a pointer to a struct whose field names are CloudFormation's property names.
func (p *provisioner) decodeProps(r template.Resource, dst any) error {
	props, err := p.resolveProps(r, propertyNames(dst))
	if err != nil {
		return err
	}
	data, err := json.Marshal(props)
	if err != nil {
		return fmt.Errorf("encode properties: %w", err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("read properties: %w", err)
	}
	return nil
}

// propertyNames lists the field names of the struct v (or *v): the properties a handler reads.
func propertyNames(v any) []string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Name)
	}
	return names
}

// arn builds an ARN in the local account and region.
func (p *provisioner) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", template.Partition, service, p.bindings.Region(), template.AccountID, resource)
}
