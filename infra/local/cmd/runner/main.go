// Command runner runs the whole application locally, driven by template.yaml: `make run`.
//
// It prints API_URL=http://127.0.0.1:<port> on a line of its own once everything is ready, then
// PAGES_URL (API_URL/.web/, the index of the local pages), serves until interrupted (Ctrl-C,
// SIGTERM), then stops everything it started and prints what it saw (invocations, errors, durations, queues, EMF metrics) as the page at /.web/ops/ shows it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/faults"
	"github.com/go-serverless/reference/infra/local/internal/runner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(1)
	}
}

// parameters collects repeated -parameter Name=Value flags.
type parameters map[string]string

func (p parameters) String() string { return fmt.Sprint(map[string]string(p)) }

func (p parameters) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[name] = value
	return nil
}

func run() error {
	params := parameters{}
	templatePath := flag.String("template", "template.yaml", "the SAM template to run")
	cacheDir := flag.String("cache", ".cache", "where `make standins` put the stand-ins, and the local JWT key")
	stateDir := flag.String("state", "", "this run's state (default <cache>/local); one runner per state directory")
	port := flag.Int("port", 3000, "port of the HTTP API on 127.0.0.1 (0 picks a free one)")
	stack := flag.String("stack", "local", "stack name: the prefix of generated resource names")
	region := flag.String("region", "us-east-1", "AWS region the functions see")
	maxVisibility := flag.Duration("max-visibility-timeout", 0, "lower each queue's visibility timeout toward this, never below the longest Timeout of the functions its SQS events feed (tests only: failed messages return sooner)")
	verbose := flag.Bool("v", false, "log the runner's debug messages")
	enforceIAM := flag.Bool("iam", true, "enforce each function's role policies on its AWS calls, as AWS does (-iam=false only to compare)")
	faultsFile := flag.String("faults", "", "inject AWS's everyday failures as this YAML or JSON file says (infra/local/README.md, Faults)")
	flag.Var(params, "parameter", "template parameter override Name=Value (repeatable)")
	paramsFile := flag.String("parameters", "", "JSON object of local parameter overrides, ${RepoRoot} expanded (default infra/local/parameters.json next to the template, if present); -parameter wins")
	flag.Parse()
	if err := addParameterFile(params, *paramsFile, *templatePath); err != nil {
		return err
	}

	var faultCfg *faults.Config
	if *faultsFile != "" {
		cfg, err := faults.Load(*faultsFile)
		if err != nil {
			return err
		}
		faultCfg = &cfg
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *stateDir == "" {
		*stateDir = filepath.Join(*cacheDir, "local")
	}
	unlock, err := lock(*stateDir)
	if err != nil {
		return err
	}
	defer unlock()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	r, err := runner.Start(ctx, runner.Config{
		TemplatePath:         *templatePath,
		CacheDir:             *cacheDir,
		StateDir:             *stateDir,
		Addr:                 "127.0.0.1:" + strconv.Itoa(*port),
		StackName:            *stack,
		Region:               *region,
		Parameters:           params,
		MaxVisibilityTimeout: *maxVisibility,
		IAM:                  *enforceIAM,
		Faults:               faultCfg,
		FunctionLogs:         os.Stdout,
		Log:                  log,
	})
	if err != nil {
		return err
	}
	log.Info("local stack ready", "startup", time.Since(started).Round(time.Millisecond), "outputs", filepath.Join(*stateDir, "outputs.json"))
	fmt.Printf("API_URL=%s\n", r.URL)
	fmt.Printf("PAGES_URL=%s\n", r.PagesURL)

	<-ctx.Done()
	log.Info("stopping")
	r.Stop()
	// What the run saw, as the page at /.web/ops/ showed it, for a last look before deploying.
	return r.Ops.Snapshot().WriteTable(os.Stdout)
}

// addParameterFile adds the overrides in path (a JSON object of strings) to params, keeping any
// already set by -parameter. With no path it reads infra/local/parameters.json beside the template,
// if there is one: the committed local overrides (e.g. a flags file instead of LaunchDarkly), so
// `make run` and the end-to-end tests need no flags. ${RepoRoot} in a value is the template's
// directory, so committed values can name files in the repository.
func addParameterFile(params parameters, path, templatePath string) error {
	root, err := filepath.Abs(filepath.Dir(templatePath))
	if err != nil {
		return fmt.Errorf("find repository root: %w", err)
	}
	explicit := path != ""
	if !explicit {
		path = filepath.Join(root, "infra", "local", "parameters.json")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read parameters: %w", err)
	}
	var overrides map[string]string
	if err := json.Unmarshal(data, &overrides); err != nil {
		return fmt.Errorf("read parameters %s: want a JSON object of strings: %w", path, err)
	}
	for name, value := range overrides {
		if _, set := params[name]; !set {
			params[name] = strings.ReplaceAll(value, "${RepoRoot}", root)
		}
	}
	return nil
}

// lock makes sure one runner at a time uses a state directory, and says which one holds it.
func lock(stateDir string) (func(), error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, "runner.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another local stack is already running (pid %s, state %s): stop it first with Ctrl-C in its terminal",
				strings.TrimSpace(string(holder)), stateDir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
