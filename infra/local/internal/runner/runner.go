// Package runner starts the whole application on one machine, driven by template.yaml: the
// stand-ins for AWS, the resources the template declares, every function as a real process
// behind a local Lambda Runtime API, and the event sources that feed them. `make run` and the
// end-to-end tests both start it through cmd/runner, so what the tests prove is what users run.
//
// Start order: stand-ins → provision → functions → event sources → API. Stop is the reverse.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/infra/local/internal/faults"
	"github.com/go-serverless/reference/infra/local/internal/jwt"
	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
	"github.com/go-serverless/reference/infra/local/internal/ops"
	"github.com/go-serverless/reference/infra/local/internal/provision"
	"github.com/go-serverless/reference/infra/local/internal/sources"
	"github.com/go-serverless/reference/infra/local/internal/standins"
	"github.com/go-serverless/reference/infra/local/template"
)

// Local credentials: every stand-in and every function uses these (versitygw accepts only its
// root keys). They protect nothing; everything listens on 127.0.0.1.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local-secret-key"
)

// Config says what to run and where.
type Config struct {
	// TemplatePath is template.yaml; function code is found relative to it, and the templates of
	// its nested applications relative to the template that declares each (template.LoadApp).
	TemplatePath string
	// CacheDir holds the downloaded stand-ins and the local JWT key (.cache).
	CacheDir string
	// StateDir holds this run's state: built functions, S3 data, logs of the stand-ins, outputs.json.
	StateDir string
	// Addr is where the HTTP API listens, e.g. 127.0.0.1:3000 (port 0 picks a free one).
	Addr       string
	StackName  string
	Region     string
	Parameters map[string]string
	// MaxVisibilityTimeout shortens queue visibility timeouts, down to their consumers' Timeout at
	// most (tests only; see provision.Options).
	MaxVisibilityTimeout time.Duration
	// IAM enforces each function's role policies on its AWS calls, as AWS does (see iam.go).
	// Off, every function signs with the runner's keys and may do anything: for comparison only.
	IAM bool
	// Faults, when set, injects AWS's everyday failures (package faults). They are applied at the
	// IAM gateways and around invocations, so they need IAM on.
	Faults *faults.Config
	// FunctionLogs receives every function's output, each line prefixed with its name.
	FunctionLogs io.Writer
	// Log is the runner's own log.
	Log *slog.Logger
}

// Runner is a running local stack.
type Runner struct {
	// URL is the HTTP API's base URL.
	URL string
	// PagesURL is the index of the local pages (sources.WebPagesPath on URL).
	PagesURL string
	// Faults injects the configured faults; nil when none are.
	Faults *faults.Injector
	// Ops collects what the runner sees (invocations, queues, EMF metrics), served at
	// /.web/ops/ and printed by cmd/runner when it stops.
	Ops *ops.Collector
	// Outputs is what the stack exposes to tests and tools; it is also written to StateDir/outputs.json.
	Outputs Outputs

	log      *slog.Logger
	cancel   context.CancelFunc
	sources  sync.WaitGroup
	server   *http.Server
	pool     *lambdapool.Pool
	standins []*standins.Process
	// s3Events receives the S3 stand-in's event webhook and delivers S3 notifications.
	s3Events *sources.S3Notifications
	// invokeAPI serves Lambda's Invoke API to the functions (AWS_ENDPOINT_URL_LAMBDA).
	invokeAPI *sources.InvokeAPI
	// gateways enforce IAM in front of the stand-ins (Config.IAM).
	gateways []*http.Server
}

// Outputs describe a running stack to its clients: the end-to-end tests read them from
// outputs.json, as they read CloudFormation outputs for a deployed stack.
type Outputs struct {
	APIURL    string            `json:"apiUrl"`
	Region    string            `json:"region"`
	StackName string            `json:"stackName"`
	Endpoints map[string]string `json:"endpoints"`
	// Stack are the root template's Outputs, resolved to local values.
	Stack map[string]string `json:"stack"`
	// Nested are the Outputs of each nested application, by its path (JobsApp), resolved.
	Nested map[string]map[string]string `json:"nested"`
	// FunctionNames are the local name of every function of the application, by logical ID
	// (unique across the application, nested templates included).
	FunctionNames   map[string]string `json:"functionNames"`
	AccessKeyID     string            `json:"accessKeyId"`
	SecretAccessKey string            `json:"secretAccessKey"`
	// JWTKeyFile, Issuer and Audience let a client sign tokens the local authorizer accepts.
	JWTKeyFile string `json:"jwtKeyFile"`
	Issuer     string `json:"issuer"`
	Audience   string `json:"audience"`
}

// Start brings the stack up. On error everything already started is stopped again.
func Start(ctx context.Context, cfg Config) (_ *Runner, err error) {
	r := &Runner{log: cfg.Log, Ops: ops.New(nil)}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()
	for _, dir := range []string{cfg.StateDir, filepath.Join(cfg.StateDir, "s3")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create state directory: %w", err)
		}
	}
	paths := standins.DefaultPaths(cfg.CacheDir)
	if err := paths.Check(); err != nil {
		return nil, err
	}
	tmpl, err := template.LoadApp(cfg.TemplatePath)
	if err != nil {
		return nil, err
	}
	functions, err := tmpl.Functions()
	if err != nil {
		return nil, err
	}

	if cfg.Faults != nil && !cfg.IAM {
		return nil, errors.New("faults are injected at the IAM gateways: run with IAM on to inject them")
	}
	var ids *identities
	if cfg.IAM {
		if ids, err = newIdentities(functions); err != nil {
			return nil, err
		}
	}

	// Functions compile while the stand-ins start: both take seconds, and they need nothing from each other.
	built := make(chan error, 1)
	var binaries map[string]string
	go func() {
		var err error
		binaries, err = buildFunctions(ctx, tmpl.Dir, filepath.Join(cfg.StateDir, "functions"), functions)
		built <- err
	}()
	endpoints, err := r.startStandins(ctx, cfg, paths, ids)
	if buildErr := <-built; buildErr != nil {
		return nil, buildErr
	}
	if err != nil {
		return nil, err
	}

	awsCfg := aws.Config{
		Region:      cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}
	clients := provision.Clients{
		DynamoDB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoints["dynamodb"])
		}),
		SQS: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoints["sqs"]) }),
		SNS: sns.NewFromConfig(awsCfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoints["sns"]) }),
		S3: s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(endpoints["s3"])
			o.UsePathStyle = true
		}),
	}
	bindings := template.NewBindings(tmpl, cfg.StackName, cfg.Region)
	for name, value := range cfg.Parameters {
		if err := bindings.SetParameter(name, value); err != nil {
			return nil, err
		}
	}
	listener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the HTTP API on %s: %w (set PORT= to use another port)", cfg.Addr, err)
	}
	r.URL = "http://" + listener.Addr().String()
	r.PagesURL = r.URL + sources.WebPagesPath
	resources, err := provision.Provision(ctx, clients, tmpl, bindings, provision.Options{MaxVisibilityTimeout: cfg.MaxVisibilityTimeout})
	if err != nil {
		listener.Close()
		return nil, err
	}
	for _, s := range resources.Skipped {
		r.log.Debug("not provisioned locally", "resource", s.LogicalID, "type", s.Type, "reason", s.Reason)
	}
	// Functions reach the stand-ins through the IAM gateways when IAM is enforced.
	functionEndpoints := endpoints
	if cfg.IAM {
		if err := ids.load(tmpl, bindings, functions, resources); err != nil {
			listener.Close()
			return nil, err
		}
		kmsKeys, err := bucketKMSKeys(tmpl, bindings, resources)
		if err != nil {
			listener.Close()
			return nil, err
		}
		if cfg.Faults != nil {
			logicalIDs := map[string]string{}
			for id, name := range resources.FunctionNames {
				logicalIDs[name] = id
			}
			r.Faults = faults.New(*cfg.Faults, logicalIDs, r.log, r.Ops)
			r.log.Warn("faults on: AWS's everyday failures are injected", "seed", cfg.Faults.Seed, "rules", len(cfg.Faults.Faults))
		}
		if functionEndpoints, err = r.startGateways(ids, endpoints, resources, kmsKeys, cfg.Region); err != nil {
			listener.Close()
			return nil, err
		}
		r.log.Info("IAM enforced: each function may call only what its role allows", "functions", len(functions))
	} else {
		r.log.Warn("IAM not enforced: every function may call anything, unlike on AWS")
	}

	r.pool = lambdapool.New(lambdapool.Options{
		Region: cfg.Region,
		// Stands in for the account's unreserved concurrency (1,000 by default): high enough that
		// only ReservedConcurrentExecutions throttles locally, low enough for one machine.
		DefaultConcurrency: 50,
		Logs:               functionLogs(cfg.FunctionLogs, r.Ops),
		Credentials:        lambdapool.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey},
		Observer:           r.Ops,
	})
	for _, fn := range functions {
		env, err := functionEnv(bindings, fn, functionEndpoints)
		if err != nil {
			listener.Close()
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		err = r.pool.Register(lambdapool.Function{
			Name:                resources.FunctionNames[fn.LogicalID],
			Executable:          binaries[fn.LogicalID],
			Env:                 env,
			Timeout:             fn.Timeout,
			MemoryMB:            fn.MemoryMB,
			ReservedConcurrency: fn.ReservedConcurrency,
			LogFormat:           fn.LogFormat,
			LogLevel:            fn.LogLevel,
			Credentials:         credentialsOf(ids, fn.LogicalID),
		})
		if err != nil {
			listener.Close()
			return nil, fmt.Errorf("register function %s: %w", fn.LogicalID, err)
		}
	}

	issuer, err := jwt.LoadOrCreateIssuer(filepath.Join(cfg.CacheDir, "local-jwt", "key.pem"), jwt.LocalIssuer)
	if err != nil {
		listener.Close()
		return nil, err
	}
	w := wiring{tmpl: tmpl, bindings: bindings, resources: resources, functions: functions, invoker: r.pool, faults: r.Faults, log: r.log, region: cfg.Region, sqs: clients.SQS.(*sqs.Client), issuer: issuer}
	api, err := w.httpAPI()
	if err != nil {
		listener.Close()
		return nil, err
	}
	mappings, err := w.sqsMappings()
	if err != nil {
		listener.Close()
		return nil, err
	}
	for _, m := range mappings {
		m.Observer = r.Ops
	}
	// DynamoDB Local serves DynamoDB Streams on its DynamoDB endpoint.
	streams := dynamodbstreams.NewFromConfig(awsCfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoints["dynamodb"]) })
	streamMappings, err := w.streamMappings(streams, clients.SQS.(*sqs.Client))
	if err != nil {
		listener.Close()
		return nil, err
	}
	async, err := w.asyncInvokes(clients.SQS.(*sqs.Client))
	if err != nil {
		listener.Close()
		return nil, err
	}
	r.invokeAPI.Route(w.invokerFor(faults.SourceInvokeAPI), async, slices.Collect(maps.Values(resources.FunctionNames)))
	if cfg.IAM {
		if err := ids.checkEventSources(&w); err != nil {
			listener.Close()
			return nil, err
		}
	}
	s3Subscriptions, err := w.s3Subscriptions()
	if err != nil {
		listener.Close()
		return nil, err
	}
	if err := w.bucketCORS(ctx, clients.S3.(*s3.Client)); err != nil {
		listener.Close()
		return nil, err
	}

	sourcesCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.sources.Add(1)
	go func() {
		defer r.sources.Done()
		async.Run(sourcesCtx)
	}()
	r.s3Events.Deliver(s3Subscriptions, async)
	for _, m := range mappings {
		r.sources.Add(1)
		go func() {
			defer r.sources.Done()
			m.Run(sourcesCtx)
		}()
	}
	for _, m := range streamMappings {
		r.sources.Add(1)
		go func() {
			defer r.sources.Done()
			m.Run(sourcesCtx)
		}()
	}
	queueURLs := map[string]string{}
	for _, q := range resources.Queues {
		queueURLs[q.Name] = q.URL
	}
	r.sources.Add(1)
	go func() {
		defer r.sources.Done()
		r.Ops.PollQueues(sourcesCtx, clients.SQS.(*sqs.Client), queueURLs, 2*time.Second)
	}()
	mux := http.NewServeMux()
	mux.Handle("/.well-known/", issuer.Handler())
	mux.Handle(ops.PagePath, r.Ops.Handler())
	mux.Handle(sources.TokenPath, sources.TokenMinter{Issuer: issuer, Audience: w.audience})
	mux.Handle(sources.WebPagesPath, w.webPages())
	mux.Handle("/", api)
	r.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := r.server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("HTTP API stopped", "error", err)
		}
	}()

	nested := map[string]map[string]string{}
	for path, app := range tmpl.Apps {
		nested[path] = w.outputs(app.Outputs, r.URL)
	}
	r.Outputs = Outputs{
		APIURL: r.URL, Region: cfg.Region, StackName: cfg.StackName, Endpoints: endpoints,
		Stack: w.outputs(tmpl.Outputs, r.URL), Nested: nested, FunctionNames: resources.FunctionNames,
		AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey,
		JWTKeyFile: filepath.Join(cfg.CacheDir, "local-jwt", "key.pem"), Issuer: jwt.LocalIssuer, Audience: w.audience,
	}
	data, err := json.MarshalIndent(r.Outputs, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.StateDir, "outputs.json"), data, 0o644); err != nil {
		return nil, fmt.Errorf("write outputs: %w", err)
	}
	return r, nil
}

// startStandins starts DynamoDB Local, fauxqs and versitygw on free ports and returns their endpoints.
func (r *Runner) startStandins(ctx context.Context, cfg Config, paths standins.Paths, ids *identities) (map[string]string, error) {
	logFile, err := os.Create(filepath.Join(cfg.StateDir, "standins.log"))
	if err != nil {
		return nil, fmt.Errorf("create stand-in log: %w", err)
	}
	// The file stays open for the stand-ins' lifetime; the OS closes it at exit.
	dynamo, err := standins.StartDynamoDB(ctx, paths, 0, logFile)
	if err != nil {
		return nil, err
	}
	r.standins = append(r.standins, dynamo)
	fauxqs, err := standins.StartFauxqs(ctx, paths, 0, logFile)
	if err != nil {
		return nil, err
	}
	r.standins = append(r.standins, fauxqs)
	dataDir := filepath.Join(cfg.StateDir, "s3")
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	// versitygw exits at start-up unless its event webhook already listens.
	r.s3Events, err = sources.ListenS3Notifications("127.0.0.1:0", cfg.Region, r.log)
	if err != nil {
		return nil, err
	}
	versityCfg := standins.VersityConfig{DataDir: dataDir, AccessKey: AccessKeyID, SecretKey: SecretAccessKey, WebhookURL: r.s3Events.URL()}
	if ids != nil {
		versityCfg.Accounts = ids.versityAccounts()
	}
	versity, err := standins.StartVersity(ctx, paths, 0, versityCfg, logFile)
	if err != nil {
		return nil, err
	}
	r.standins = append(r.standins, versity)
	// Lambda's Invoke API listens now so its URL reaches every function's environment; it routes
	// invocations once the functions and asynchronous delivery exist (see Start).
	r.invokeAPI, err = sources.ListenInvokeAPI("127.0.0.1:0", r.log)
	if err != nil {
		return nil, err
	}
	return map[string]string{"dynamodb": dynamo.URL, "sqs": fauxqs.URL, "sns": fauxqs.URL, "s3": versity.URL, "lambda": r.invokeAPI.URL()}, nil
}

// Stop stops everything Start started, in reverse order.
func (r *Runner) Stop() {
	if r.cancel != nil {
		r.cancel()
	}
	if r.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.server.Shutdown(ctx)
		cancel()
	}
	r.sources.Wait()
	for _, g := range r.gateways {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = g.Shutdown(ctx)
		cancel()
	}
	if r.pool != nil {
		if err := r.pool.Close(); err != nil {
			r.log.Warn("stop functions", "error", err)
		}
	}
	for i := len(r.standins) - 1; i >= 0; i-- {
		if err := r.standins[i].Stop(); err != nil {
			r.log.Warn("stop stand-in", "name", r.standins[i].Name, "error", err)
		}
	}
	if r.s3Events != nil {
		_ = r.s3Events.Close()
	}
	if r.invokeAPI != nil {
		_ = r.invokeAPI.Close()
	}
}

// functionLogs is where the functions' output goes: to logs (the terminal), and to the collector,
// which reads the metrics of its EMF lines.
func functionLogs(logs io.Writer, c *ops.Collector) io.Writer {
	if logs == nil {
		return c
	}
	return io.MultiWriter(logs, c)
}

// credentialsOf returns a function's own keys when IAM is enforced, nil (the pool's keys) when not.
func credentialsOf(ids *identities, logicalID string) *lambdapool.Credentials {
	if ids == nil {
		return nil
	}
	return &ids.byLogicalID[logicalID].keys
}
