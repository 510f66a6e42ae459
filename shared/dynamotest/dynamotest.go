// Package dynamotest runs tests against DynamoDB Local, AWS's own emulator,
// so that code which depends on DynamoDB's semantics (condition
// expressions, transactions, ALL_OLD on a failed condition) is tested
// against the real thing rather than a fake that agrees with the code's
// author.
//
// [Start] finds the emulator's jar, starts it on a free port and returns a
// client for it. The JVM costs about 2 s and 200 MB, so a test binary
// should share one instance across its tests by calling [Main] from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
//
// Without TestMain each Start starts an instance of its own, stopped when
// the test ends. Either way each test makes its own tables with
// [CreateTable], so tests never see each other's data.
//
// When the jar (or java) is missing, tests that call Start are skipped with
// a message saying how to get it, unless REQUIRE_STANDINS=1 is set, which
// turns the skip into a failure: `make test` and CI set it, so a broken
// set-up fails loudly instead of passing with nothing tested.
package dynamotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Environment variables read by this package.
const (
	// EnvDir names the directory holding DynamoDBLocal.jar and
	// DynamoDBLocal_lib.
	EnvDir = "DYNAMODB_LOCAL_DIR"
	// EnvRequire, set to 1, makes a missing stand-in fail the test
	// instead of skipping it.
	EnvRequire = "REQUIRE_STANDINS"
)

// standInPath is where `make standins` puts DynamoDB Local, relative to
// the repository root. Start looks for it from the working directory up.
const standInPath = ".cache/standins/dynamodb-local"

// readyTimeout bounds the wait for the JVM to answer. It is generous because
// a loaded CI machine with two cores can take many times the usual 2 s.
const readyTimeout = 60 * time.Second

// shared is the instance shared by a test binary that called Main; nil
// otherwise. It is the one piece of package state, and only test binaries
// import this package: a JVM is a per-process resource.
var shared *sharedInstance

type sharedInstance struct {
	once sync.Once
	inst *instance
	err  error
}

// Main runs the tests with one DynamoDB Local shared by every Start call,
// started on first use (a run that selects no DynamoDB tests starts none)
// and stopped after the last test. Call it from TestMain and pass its result
// to os.Exit.
func Main(m *testing.M) int {
	shared = &sharedInstance{}
	code := m.Run()
	if shared.inst != nil {
		shared.inst.stop()
	}
	return code
}

// Start returns a client for a running DynamoDB Local: the test binary's
// shared instance after [Main], else a new one stopped in t.Cleanup. It
// skips t (or fails it under REQUIRE_STANDINS=1) when the emulator cannot
// be found.
func Start(t testing.TB) *dynamodb.Client {
	t.Helper()
	var inst *instance
	var err error
	if shared != nil {
		shared.once.Do(func() { shared.inst, shared.err = start() })
		inst, err = shared.inst, shared.err
	} else {
		inst, err = start()
		if inst != nil {
			t.Cleanup(inst.stop)
		}
	}
	if errors.Is(err, errNotInstalled) {
		missing(t, err)
		return nil
	}
	if err != nil {
		t.Fatalf("start DynamoDB Local: %v", err)
	}
	return newClient(inst.endpoint)
}

// missing skips t because a stand-in is not installed, or fails it when
// REQUIRE_STANDINS=1 says the run must not skip.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%v (%s=1 forbids skipping)", err, EnvRequire)
		return
	}
	t.Skipf("skipping: %v", err)
}

// CreateTable creates a table from input under a name unique to this test
// and this run, waits until it is active, and deletes it in t.Cleanup. It
// returns the name; input is not modified. Billing defaults to
// PAY_PER_REQUEST when input sets neither mode nor throughput.
func CreateTable(t testing.TB, client *dynamodb.Client, input *dynamodb.CreateTableInput) string {
	t.Helper()
	in := *input
	in.TableName = aws.String(tableName(t.Name()))
	if in.BillingMode == "" && in.ProvisionedThroughput == nil {
		in.BillingMode = types.BillingModePayPerRequest
	}

	ctx := context.Background()
	if _, err := client.CreateTable(ctx, &in); err != nil {
		t.Fatalf("create table %s: %v", *in.TableName, err)
	}
	t.Cleanup(func() {
		// A stopped instance has nothing left to delete.
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: in.TableName})
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", *in.TableName, err)
	}
	return *in.TableName
}

// tableName turns a test name into a valid, unique table name: DynamoDB
// allows [a-zA-Z0-9_.-], 3 to 255 characters. The random suffix keeps
// names apart across -count=N runs against one shared instance.
func tableName(testName string) string {
	var b strings.Builder
	for _, c := range testName {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
			b.WriteRune(c)
		default:
			b.WriteRune('_')
		}
	}
	name := b.String()
	if len(name) > 200 {
		name = name[:200]
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return name + "-" + hex.EncodeToString(suffix[:])
}

// newClient returns a client for DynamoDB Local at endpoint. It is built
// from explicit options, not the default configuration chain, so that
// nothing in the developer's environment (a profile, an endpoint variable)
// can point a test at a real table.
func newClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
		// DynamoDB Local omits the CRC32 header on error responses; without
		// this every 4xx logs a spurious checksum warning.
		DisableValidateResponseChecksum: true,
	})
}

// errNotInstalled marks a start failure caused by a missing jar or java:
// the environment's fault, so a skip, not a failure, unless required.
var errNotInstalled = errors.New("DynamoDB Local is not installed")

// instance is one running DynamoDB Local.
type instance struct {
	cmd      *exec.Cmd
	endpoint string
	exited   chan struct{}
}

// start finds the jar, starts the JVM on a free port and waits until it
// answers ListTables.
func start() (*instance, error) {
	dir, err := locate()
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("%w: no java on PATH (install a JRE 17)", errNotInstalled)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	// DynamoDB Local has no option to bind one interface; it listens on all
	// of them, on a port nobody else uses.
	var output bytes.Buffer
	cmd := exec.Command(java,
		"-XX:TieredStopAtLevel=1", // start fast; tests are short-lived
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory",
		"-sharedDb", // one database whatever region or keys a client uses
		"-disableTelemetry",
		"-port", strconv.Itoa(port),
	)
	cmd.Dir = dir
	cmd.Stdout = &output
	cmd.Stderr = &output
	configure(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start java: %w", err)
	}
	inst := &instance{cmd: cmd, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(inst.exited)
	}()

	if err := inst.waitReady(); err != nil {
		inst.stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, output.String())
	}
	return inst, nil
}

// waitReady polls ListTables until DynamoDB Local answers, the process
// exits, or readyTimeout passes.
func (i *instance) waitReady() error {
	client := newClient(i.endpoint)
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
			o.RetryMaxAttempts = 1
		})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-i.exited:
			return fmt.Errorf("DynamoDB Local exited at start-up: %v", i.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local did not answer within %v: %w", readyTimeout, err)
		}
	}
}

// stop kills the JVM's process group and waits for it to exit. A process
// that has already exited and been reaped is left alone: its process ID may
// belong to someone else by now.
func (i *instance) stop() {
	select {
	case <-i.exited:
		return
	default:
	}
	kill(i.cmd)
	<-i.exited
}

// locate returns the directory holding DynamoDBLocal.jar: $DYNAMODB_LOCAL_DIR,
// else .cache/standins/dynamodb-local in the working directory or the
// nearest parent that has one (tests run in their package's directory).
func locate() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		if !hasJar(dir) {
			return "", fmt.Errorf("%w: no DynamoDBLocal.jar in %s=%s", errNotInstalled, EnvDir, dir)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if candidate := filepath.Join(dir, standInPath); hasJar(candidate) {
			return candidate, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("%w: no %s above %s and %s is unset (run `make standins`)", errNotInstalled, standInPath, wd, EnvDir)
}

func hasJar(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar"))
	return err == nil
}

// freePort asks the kernel for a free port on the loopback interface. The
// port is released before the JVM binds it; another process could take it in
// between, which start-up then reports.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
