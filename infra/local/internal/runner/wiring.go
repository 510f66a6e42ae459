package runner

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/go-serverless/reference/infra/local/internal/faults"
	"github.com/go-serverless/reference/infra/local/internal/jwt"
	"github.com/go-serverless/reference/infra/local/internal/ops"
	"github.com/go-serverless/reference/infra/local/internal/provision"
	"github.com/go-serverless/reference/infra/local/internal/sources"
	"github.com/go-serverless/reference/infra/local/template"
)

// wiring turns what the template declares about event sources into local sources. Each
// integration has one method here and one file in package sources.
type wiring struct {
	tmpl      *template.Template
	bindings  *template.Bindings
	resources *provision.Resources
	functions []template.Function
	invoker   sources.Invoker
	// faults injects function and delivery faults into each source's invocations; nil for none.
	faults *faults.Injector
	log    *slog.Logger
	region string
	sqs    sources.SQSAPI
	issuer *jwt.Issuer
	// audience is an audience the JWT authorizers accept, once httpAPI has run: the first
	// audience of the first API (by logical ID) that has one.
	audience string
}

// invokerFor is the invoker a source of kind source calls: the pool, with faults when configured.
func (w *wiring) invokerFor(source faults.Source) sources.Invoker {
	return w.faults.Invoker(w.invoker, source)
}

// events returns every event of type typ with the name of the function it feeds.
func (w *wiring) events(typ string) []functionEvent {
	var out []functionEvent
	for _, fn := range w.functions {
		for _, ev := range fn.Events {
			if ev.Type == typ {
				out = append(out, functionEvent{fn: fn, name: w.resources.FunctionNames[fn.LogicalID], event: ev})
			}
		}
	}
	return out
}

// resolvedEvent resolves an event's properties.
func (w *wiring) resolvedEvent(fe functionEvent) (map[string]template.Value, error) {
	resolved, err := w.bindings.Resolve(fe.event.Properties)
	if err != nil {
		return nil, fmt.Errorf("function %s event %s: %w", fe.fn.LogicalID, fe.event.Name, err)
	}
	p, _ := resolved.(map[string]template.Value)
	return p, nil
}

// The HttpApi resource type, and the logical ID of the API SAM makes for HttpApi events that name none.
const (
	typeHTTPAPI     = "AWS::Serverless::HttpApi"
	implicitHTTPAPI = "ServerlessHttpApi"
)

type functionEvent struct {
	fn    template.Function
	name  string
	event template.Event
}

// httpAPI serves every AWS::Serverless::HttpApi of the application on the one local URL, from the
// functions' HttpApi events: each route with its own API's JWT authorizer, DefaultRouteSettings
// and RouteSettings; the routes of an API without an authorizer are open. On AWS each API has a
// host of its own; here they share one, so two routes with the same key, in one API or in two,
// are an error. The JWT authorizer is emulated: tokens must come from the local issuer
// (`make token`) instead of Cognito, with the audience the template declares.
func (w *wiring) httpAPI() (*sources.HTTPAPI, error) {
	api := &sources.HTTPAPI{Invoker: w.invokerFor(faults.SourceHTTP), Log: w.log, Region: w.region}
	apis := map[string]*apiSettings{}
	served := map[string]string{} // route key, path parameters unnamed → "<route key> of <API>"
	for _, fe := range w.events("HttpApi") {
		apiID, err := w.apiOf(fe)
		if err != nil {
			return nil, err
		}
		settings, ok := apis[apiID]
		if !ok {
			if settings, err = w.apiSettings(apiID, fe.fn.Stack); err != nil {
				return nil, err
			}
			apis[apiID] = settings
		}
		method, err := w.bindings.ResolveString(fe.event.Properties["Method"])
		if err != nil {
			return nil, fmt.Errorf("function %s event %s: Method: %w", fe.fn.LogicalID, fe.event.Name, err)
		}
		path, err := w.bindings.ResolveString(fe.event.Properties["Path"])
		if err != nil {
			return nil, fmt.Errorf("function %s event %s: Path: %w", fe.fn.LogicalID, fe.event.Name, err)
		}
		route := sources.Route{Method: strings.ToUpper(method), Path: path, Function: fe.name}
		public := false
		if auth, ok := fe.event.Properties["Auth"].(map[string]template.Value); ok {
			name, _ := w.bindings.ResolveString(auth["Authorizer"])
			public = name == "NONE"
		}
		if settings.authorizer != nil && !public {
			route.Authorizer = settings.authorizer
		}
		own := settings.routeSettings[route.Key()]
		if v, ok := fe.event.Properties["RouteSettings"]; ok {
			own = v
		}
		if route.Throttle, err = w.throttleSettings(own); err != nil {
			return nil, fmt.Errorf("route %s: %w", route.Key(), err)
		}
		if route.Throttle == nil && settings.throttle != nil {
			route.Throttle = sources.NewThrottle(settings.throttle.Rate, settings.throttle.Burst)
		}
		key := routeKeyShape(route)
		if other, taken := served[key]; taken {
			return nil, fmt.Errorf("route %s of %s (function %s) and %s: the local runner serves every HttpApi on one URL, so no two routes may have the same key", route.Key(), apiID, fe.fn.LogicalID, other)
		}
		served[key] = fmt.Sprintf("%s of %s (function %s)", route.Key(), apiID, fe.fn.LogicalID)
		api.Routes = append(api.Routes, route)
	}
	for _, id := range slices.Sorted(maps.Keys(apis)) {
		if a := apis[id]; a.audience != "" {
			w.audience = a.audience
			break
		}
	}
	return api, nil
}

// apiSettings are what an HttpApi gives each of its routes.
type apiSettings struct {
	// authorizer is the API's default authorizer, nil when it has none.
	authorizer sources.Authorizer
	// audience is the first audience its authorizer accepts, "" without one.
	audience string
	// throttle is its DefaultRouteSettings' limit, nil when there is none.
	throttle *sources.Throttle
	// routeSettings are its RouteSettings, by route key, unresolved.
	routeSettings map[string]template.Value
}

// apiOf returns the logical ID of the HttpApi an event belongs to: the one its ApiId names, or
// SAM's implicit ServerlessHttpApi when it names none.
func (w *wiring) apiOf(fe functionEvent) (string, error) {
	v, ok := fe.event.Properties["ApiId"]
	if !ok {
		return implicitHTTPAPI, nil
	}
	m, _ := v.(map[string]template.Value)
	id, _ := m["Ref"].(string)
	if r, declared := w.tmpl.Resources[id]; !declared || r.Type != typeHTTPAPI || len(m) != 1 {
		// As SAM requires: an HttpApi event's API is one of its own template.
		return "", fmt.Errorf("function %s event %s: ApiId %v is not !Ref of an AWS::Serverless::HttpApi of the template", fe.fn.LogicalID, fe.event.Name, v)
	}
	return id, nil
}

// apiSettings reads the authorizer and throttling of HttpApi id, with SAM's Globals.HttpApi. The
// implicit API SAM makes for events without ApiId gets the root template's Globals.HttpApi (a
// nested template's own Globals reach only its declared resources).
func (w *wiring) apiSettings(id, stack string) (*apiSettings, error) {
	var props map[string]template.Value
	if r, declared := w.tmpl.Resources[id]; declared {
		props = w.tmpl.WithGlobals(r)
	} else if stack == "" {
		props = w.tmpl.Globals["HttpApi"]
	}
	s := &apiSettings{}
	var err error
	if s.throttle, err = w.throttleSettings(props["DefaultRouteSettings"]); err != nil {
		return nil, fmt.Errorf("HttpApi %s DefaultRouteSettings: %w", id, err)
	}
	s.routeSettings, _ = props["RouteSettings"].(map[string]template.Value)
	verifier, err := w.authorizer(props["Auth"])
	if err != nil {
		return nil, fmt.Errorf("HttpApi %s: %w", id, err)
	}
	if verifier != nil {
		s.authorizer = verifier
		s.audience = verifier.Audiences[0]
	}
	return s, nil
}

// routeKeyShape is a route's key with its path parameters unnamed: two routes of one shape would
// take the same requests.
func routeKeyShape(r sources.Route) string {
	segments := strings.Split(r.Path, "/")
	for i, seg := range segments {
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}"):
			segments[i] = "{+}"
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			segments[i] = "{}"
		}
	}
	return r.Method + " " + strings.Join(segments, "/")
}

// authorizer returns the verifier for an API's default JWT authorizer, or nil when it has none.
func (w *wiring) authorizer(auth template.Value) (*jwt.Verifier, error) {
	props, ok := auth.(map[string]template.Value)
	if !ok {
		return nil, nil
	}
	name, err := w.bindings.ResolveString(props["DefaultAuthorizer"])
	if err != nil || name == "" {
		return nil, nil
	}
	authorizers, _ := props["Authorizers"].(map[string]template.Value)
	def, _ := authorizers[name].(map[string]template.Value)
	jwtConfig, ok := def["JwtConfiguration"].(map[string]template.Value)
	if !ok {
		return nil, fmt.Errorf("authorizer %s: only JWT authorizers are emulated locally", name)
	}
	resolved, err := w.bindings.Resolve(jwtConfig["audience"])
	if err != nil {
		return nil, fmt.Errorf("authorizer %s audience: %w", name, err)
	}
	list, _ := resolved.([]template.Value)
	var audiences []string
	for _, a := range list {
		audiences = append(audiences, fmt.Sprint(a))
	}
	if len(audiences) == 0 {
		return nil, fmt.Errorf("authorizer %s declares no audience", name)
	}
	return &jwt.Verifier{Issuer: jwt.LocalIssuer, Audiences: audiences, Keys: w.issuer.PublicKeys}, nil
}

// throttleSettings reads ThrottlingRateLimit and ThrottlingBurstLimit; nil when neither is set.
func (w *wiring) throttleSettings(v template.Value) (*sources.Throttle, error) {
	if v == nil {
		return nil, nil
	}
	resolved, err := w.bindings.Resolve(v)
	if err != nil {
		return nil, err
	}
	props, _ := resolved.(map[string]template.Value)
	rate, hasRate := number(props["ThrottlingRateLimit"])
	burst, hasBurst := number(props["ThrottlingBurstLimit"])
	if !hasRate && !hasBurst {
		return nil, nil
	}
	if !hasRate || !hasBurst {
		return nil, fmt.Errorf("set both ThrottlingRateLimit and ThrottlingBurstLimit")
	}
	return sources.NewThrottle(rate, int(burst)), nil
}

// sqsMappings builds an event source mapping for every SQS event. An event AWS would refuse
// (template.SQSEventRefusals: a BatchSize above 10 without a batching window, say; or a queue whose
// visibility timeout is shorter than the function's Timeout) stops the run here, at start-up, as it
// would stop the deploy on AWS.
func (w *wiring) sqsMappings() ([]*sources.SQSMapping, error) {
	var out []*sources.SQSMapping
	for _, fe := range w.events("SQS") {
		props, err := w.bindings.Resolve(fe.event.Properties)
		if err != nil {
			return nil, fmt.Errorf("function %s event %s: %w", fe.fn.LogicalID, fe.event.Name, err)
		}
		p, _ := props.(map[string]template.Value)
		arn := fmt.Sprint(p["Queue"])
		queue, ok := w.resources.QueueByARN(arn)
		if !ok {
			return nil, fmt.Errorf("function %s event %s: queue %s is not declared in the template", fe.fn.LogicalID, fe.event.Name, arn)
		}
		// SQS requires a FIFO queue's name to end in .fifo; provisioning names one so when the
		// template gives it no QueueName.
		fifo := strings.HasSuffix(queue.Name, ".fifo")
		refusals := template.SQSEventRefusals(p, fifo)
		if refusal := visibilityRefusal(queue, fe.fn); refusal != "" {
			refusals = append(refusals, refusal)
		}
		if len(refusals) > 0 {
			return nil, fmt.Errorf("function %s event %s: AWS would refuse this SQS event source: %s",
				fe.fn.LogicalID, fe.event.Name, strings.Join(refusals, "; "))
		}
		// AWS checks a disabled mapping when it creates it, as the refusals above do.
		if enabled, ok := p["Enabled"].(bool); ok && !enabled {
			continue
		}
		m := &sources.SQSMapping{
			SQS: w.sqs, Invoker: w.invokerFor(faults.SourceSQS), Log: w.log, Function: fe.name,
			QueueURL: queue.URL, QueueARN: queue.ARN, Region: w.region,
			BatchSize: 10, Concurrency: 5,
		}
		if n, ok := number(p["BatchSize"]); ok {
			m.BatchSize = int(n)
		}
		if n, ok := number(p["MaximumBatchingWindowInSeconds"]); ok {
			m.Window = time.Duration(n) * time.Second
		}
		if scaling, ok := p["ScalingConfig"].(map[string]template.Value); ok {
			if n, ok := number(scaling["MaximumConcurrency"]); ok {
				m.Concurrency = int(n)
			}
		}
		types, _ := p["FunctionResponseTypes"].([]template.Value)
		for _, t := range types {
			if t == "ReportBatchItemFailures" {
				m.ReportBatchItemFailures = true
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// visibilityRefusal says why Lambda would refuse to map queue to fn, "" when it would not: "Your
// function's timeout must be less than or equal to the queue's visibility timeout. Lambda validates
// this requirement when you create or update an event source mapping"
// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). AWS answers
// InvalidParameterValueException "Queue visibility timeout: X seconds is less than Function
// timeout: Y seconds". The queue's value is the one provisioned, so a MaxVisibilityTimeout that
// lowered it too far would be refused here too (provision keeps it at the consumers' Timeout).
func visibilityRefusal(queue provision.Queue, fn template.Function) string {
	if queue.VisibilityTimeout >= fn.Timeout {
		return ""
	}
	return fmt.Sprintf("queue %s has a visibility timeout of %v seconds, less than the function's Timeout of %v seconds",
		queue.LogicalID, queue.VisibilityTimeout.Seconds(), fn.Timeout.Seconds())
}

// asyncInvokes configures asynchronous invocation for every function from its EventInvokeConfig
// (MaximumRetryAttempts, MaximumEventAgeInSeconds, SQS destinations); functions without one get
// Lambda's defaults. Destinations other than SQS queues of the template are not emulated: their
// records are logged and dropped.
func (w *wiring) asyncInvokes(sender sources.SQSSender) (*sources.Async, error) {
	async := &sources.Async{Invoker: w.invokerFor(faults.SourceAsync), Log: w.log, RetryDelay: time.Second}
	for _, fn := range w.functions {
		name := w.resources.FunctionNames[fn.LogicalID]
		cfg := sources.AsyncConfig{
			FunctionARN:          fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", template.Partition, w.region, template.AccountID, name),
			MaximumRetryAttempts: sources.DefaultMaximumRetryAttempts,
		}
		resolved, err := w.bindings.Resolve(fn.Properties["EventInvokeConfig"])
		if err != nil {
			return nil, fmt.Errorf("function %s EventInvokeConfig: %w", fn.LogicalID, err)
		}
		props, _ := resolved.(map[string]template.Value)
		if n, ok := number(props["MaximumRetryAttempts"]); ok {
			cfg.MaximumRetryAttempts = int(n)
		}
		if n, ok := number(props["MaximumEventAgeInSeconds"]); ok {
			cfg.MaximumEventAge = time.Duration(n) * time.Second
		}
		destinations, _ := props["DestinationConfig"].(map[string]template.Value)
		for kind, target := range map[string]*sources.Destination{"OnFailure": &cfg.OnFailure, "OnSuccess": &cfg.OnSuccess} {
			d, _ := destinations[kind].(map[string]template.Value)
			if d == nil {
				continue
			}
			arn := fmt.Sprint(d["Destination"])
			if queue, ok := w.resources.QueueByARN(arn); ok {
				*target = sources.SQSDestination{SQS: sender, QueueURL: queue.URL}
				continue
			}
			w.log.Warn("asynchronous invocation destination not emulated locally; its records are logged only", "function", fn.LogicalID, "destination", kind, "arn", arn)
		}
		async.Configure(name, cfg)
	}
	return async, nil
}

// s3Subscriptions reads every S3 event: its Bucket (a bucket of the template), Events (with
// wildcards) and Filter.S3Key.Rules (prefix and suffix).
func (w *wiring) s3Subscriptions() ([]sources.S3Subscription, error) {
	var out []sources.S3Subscription
	for _, fe := range w.events("S3") {
		resolved, err := w.bindings.Resolve(fe.event.Properties)
		if err != nil {
			return nil, fmt.Errorf("function %s event %s: %w", fe.fn.LogicalID, fe.event.Name, err)
		}
		p, _ := resolved.(map[string]template.Value)
		sub := sources.S3Subscription{Function: fe.name, ConfigurationID: fe.event.Name, Bucket: fmt.Sprint(p["Bucket"])}
		if !w.declaredBucket(sub.Bucket) {
			// SAM itself requires the bucket of an S3 event to be declared in the same template.
			return nil, fmt.Errorf("function %s event %s: bucket %s is not a bucket of the template", fe.fn.LogicalID, fe.event.Name, sub.Bucket)
		}
		switch events := p["Events"].(type) {
		case string:
			sub.Events = []string{events}
		case []template.Value:
			for _, e := range events {
				sub.Events = append(sub.Events, fmt.Sprint(e))
			}
		}
		if len(sub.Events) == 0 {
			return nil, fmt.Errorf("function %s event %s: no Events", fe.fn.LogicalID, fe.event.Name)
		}
		filter, _ := p["Filter"].(map[string]template.Value)
		key, _ := filter["S3Key"].(map[string]template.Value)
		rules, _ := key["Rules"].([]template.Value)
		for _, r := range rules {
			rule, _ := r.(map[string]template.Value)
			switch value := fmt.Sprint(rule["Value"]); strings.ToLower(fmt.Sprint(rule["Name"])) {
			case "prefix":
				sub.Prefix = value
			case "suffix":
				sub.Suffix = value
			}
		}
		out = append(out, sub)
	}
	return out, nil
}

// declaredBucket reports whether name is the name of one of the template's buckets.
func (w *wiring) declaredBucket(name string) bool {
	for _, b := range w.resources.Buckets {
		if b.Name == name {
			return true
		}
	}
	return false
}

// streamMappings builds an event source mapping for every DynamoDB event (a table's stream).
// Defaults are Lambda's: BatchSize 100, unlimited retries, no bisecting. The OnFailure
// destination must be a queue of the template.
func (w *wiring) streamMappings(streams sources.StreamsAPI, sender sources.SQSSender) ([]*sources.StreamMapping, error) {
	var out []*sources.StreamMapping
	for _, fe := range w.events("DynamoDB") {
		resolved, err := w.bindings.Resolve(fe.event.Properties)
		if err != nil {
			return nil, fmt.Errorf("function %s event %s: %w", fe.fn.LogicalID, fe.event.Name, err)
		}
		p, _ := resolved.(map[string]template.Value)
		if enabled, ok := p["Enabled"].(bool); ok && !enabled {
			continue
		}
		arn := fmt.Sprint(p["Stream"])
		if _, ok := w.resources.TableByStreamARN(arn); !ok {
			return nil, fmt.Errorf("function %s event %s: stream %s is not a stream of a table in the template", fe.fn.LogicalID, fe.event.Name, arn)
		}
		m := &sources.StreamMapping{
			Streams: streams, Invoker: w.invokerFor(faults.SourceStream), Log: w.log, Function: fe.name,
			FunctionARN: fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", template.Partition, w.region, template.AccountID, fe.name),
			StreamARN:   arn, Region: w.region,
			BatchSize: 100, MaximumRetryAttempts: -1,
		}
		m.StartingPosition, _ = p["StartingPosition"].(string) // SAM requires it; empty reads from TRIM_HORIZON
		if n, ok := number(p["BatchSize"]); ok {
			m.BatchSize = int(n)
		}
		if n, ok := number(p["MaximumRetryAttempts"]); ok {
			m.MaximumRetryAttempts = int(n)
		}
		m.BisectBatchOnFunctionError, _ = p["BisectBatchOnFunctionError"].(bool)
		types, _ := p["FunctionResponseTypes"].([]template.Value)
		for _, t := range types {
			if t == "ReportBatchItemFailures" {
				m.ReportBatchItemFailures = true
			}
		}
		destination, _ := p["DestinationConfig"].(map[string]template.Value)
		if onFailure, ok := destination["OnFailure"].(map[string]template.Value); ok {
			arn := fmt.Sprint(onFailure["Destination"])
			queue, ok := w.resources.QueueByARN(arn)
			if !ok {
				return nil, fmt.Errorf("function %s event %s: OnFailure %s is not a queue of the template (only SQS is emulated)", fe.fn.LogicalID, fe.event.Name, arn)
			}
			m.OnFailure = sources.SQSDestination{SQS: sender, QueueURL: queue.URL}
		}
		out = append(out, m)
	}
	return out, nil
}

// bucketCORS applies each bucket's CorsConfiguration to the S3 stand-in, so that a page served
// locally can send a pre-signed request to S3 from the browser, as it can in AWS.
func (w *wiring) bucketCORS(ctx context.Context, client *s3.Client) error {
	for id, bucket := range w.resources.Buckets {
		resolved, err := w.bindings.Resolve(w.tmpl.Resources[id].Properties["CorsConfiguration"])
		if err != nil {
			return fmt.Errorf("bucket %s CorsConfiguration: %w", id, err)
		}
		props, _ := resolved.(map[string]template.Value)
		rules, _ := props["CorsRules"].([]template.Value)
		if len(rules) == 0 {
			continue
		}
		strs := func(v template.Value) []string {
			list, _ := v.([]template.Value)
			out := make([]string, 0, len(list))
			for _, s := range list {
				out = append(out, fmt.Sprint(s))
			}
			return out
		}
		cors := &s3types.CORSConfiguration{}
		for _, r := range rules {
			rule, _ := r.(map[string]template.Value)
			c := s3types.CORSRule{
				AllowedMethods: strs(rule["AllowedMethods"]), AllowedOrigins: strs(rule["AllowedOrigins"]),
				AllowedHeaders: strs(rule["AllowedHeaders"]), ExposeHeaders: strs(rule["ExposedHeaders"]),
			}
			if n, ok := number(rule["MaxAge"]); ok {
				c.MaxAgeSeconds = aws.Int32(int32(n))
			}
			cors.CORSRules = append(cors.CORSRules, c)
		}
		if _, err := client.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket.Name), CORSConfiguration: cors}); err != nil {
			return fmt.Errorf("bucket %s: put CORS configuration: %w", id, err)
		}
	}
	return nil
}

// webPages serves the web/ folder of every service that has one at /.web/<service>/.
func (w *wiring) webPages() sources.WebPages {
	pages := sources.WebPages{Dirs: map[string]string{}, Others: map[string]string{ops.PagePath: "Ops: what the local stack has seen"}}
	for _, fn := range w.functions {
		dir := filepath.Join(w.tmpl.Dir, fn.CodeURI, "web")
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			pages.Dirs[filepath.Base(fn.CodeURI)] = dir
		}
	}
	for service := range pages.Dirs {
		w.log.Info("web page", "service", service, "path", sources.WebPagesPath+service+"/")
	}
	return pages
}

// outputs resolves Outputs (the root template's, or a nested application's) to local values,
// leaving out those whose Condition is false and those that do not resolve locally. An output
// whose value is an HttpApi's execute-api URL is the local API's URL instead, with the same path:
// every HttpApi is served there.
func (w *wiring) outputs(outputs map[string]template.Value, apiURL string) map[string]string {
	var hosts []string
	for _, r := range w.tmpl.OfType(typeHTTPAPI) {
		hosts = append(hosts, r.LogicalID)
	}
	hosts = append(hosts, implicitHTTPAPI)
	for i, id := range hosts {
		ref, _ := w.bindings.ResolveString(map[string]template.Value{"Ref": id})
		hosts[i] = "https://" + ref + ".execute-api." + w.region + "." + template.URLSuffix
	}
	out := map[string]string{}
	for name, v := range outputs {
		props, _ := v.(map[string]template.Value)
		if c, ok := props["Condition"].(string); ok {
			if holds, err := w.bindings.Condition(c); err != nil || !holds {
				w.log.Debug("output left out", "output", name, "condition", c, "error", err)
				continue
			}
		}
		value, err := w.bindings.ResolveString(props["Value"])
		if err != nil {
			w.log.Debug("output does not resolve locally", "output", name, "error", err)
			continue
		}
		for _, host := range hosts {
			if rest, ok := strings.CutPrefix(value, host); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
				value = apiURL + rest
				break
			}
		}
		out[name] = value
	}
	return out
}

// functionEnv resolves a function's environment and points its AWS SDK at the stand-ins through
// the SDK's standard per-service endpoint variables: no function has a code path for local runs.
func functionEnv(b *template.Bindings, fn template.Function, endpoints map[string]string) (map[string]string, error) {
	env := map[string]string{}
	for name, v := range fn.Environment {
		resolved, err := b.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", name, err)
		}
		if resolved == nil {
			continue // AWS::NoValue
		}
		s, err := b.ResolveString(resolved)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", name, err)
		}
		env[name] = s
	}
	services := make([]string, 0, len(endpoints))
	for service := range endpoints {
		services = append(services, service)
	}
	sort.Strings(services)
	for _, service := range services {
		env["AWS_ENDPOINT_URL_"+strings.ToUpper(service)] = endpoints[service]
	}
	return env, nil
}

// buildFunctions compiles every function for this machine, one `go build` per CodeUri (so shared
// packages compile once), and returns each function's binary by logical ID.
func buildFunctions(ctx context.Context, dir, outDir string, functions []template.Function) (map[string]string, error) {
	byCode := map[string][]template.Function{}
	for _, fn := range functions {
		byCode[fn.CodeURI] = append(byCode[fn.CodeURI], fn)
	}
	binaries := map[string]string{}
	for codeURI, fns := range byCode {
		out := filepath.Join(outDir, strings.NewReplacer("/", "_", ".", "_").Replace(codeURI))
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
		args := []string{"build", "-tags", "lambda.norpc", "-o", out + string(filepath.Separator)}
		for _, fn := range fns {
			rel, err := filepath.Rel(codeURI, fn.Package)
			if err != nil {
				return nil, err
			}
			args = append(args, "./"+filepath.ToSlash(rel))
			binaries[fn.LogicalID] = filepath.Join(out, filepath.Base(fn.Package))
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = filepath.Join(dir, codeURI)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if output, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build functions in %s: %w\n%s", codeURI, err, output)
		}
	}
	return binaries, nil
}

// number reads a resolved template number (template.Number).
func number(v template.Value) (float64, bool) { return template.Number(v) }
